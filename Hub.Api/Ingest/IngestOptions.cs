namespace Hub.Api.Ingest;

/// <summary>Settings of push ingestion (section <c>Ingest</c>).</summary>
public sealed class IngestOptions
{
    public const string SectionName = "Ingest";

    /// <summary>The largest body a push may send; a larger one is refused with 413 before anything is stored.</summary>
    public long MaxBodyBytes { get; set; } = 50L * 1024 * 1024;
}
