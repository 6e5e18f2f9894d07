using System.ComponentModel.DataAnnotations;

namespace Hub.Connectors;

/// <summary>Settings shared by every connector (section <c>Connectors</c>).</summary>
public sealed class ConnectorOptions
{
    public const string SectionName = "Connectors";

    /// <summary>Folder of the agency files.</summary>
    [Required]
    public string Path { get; set; } = "connectors.d";

    /// <summary>How often the worker and the API check <see cref="Path"/> for changed files (hot reload); zero turns it off.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A page larger than this fails the run instead of exhausting memory.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxPageBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// A file read as it arrives (a CSV source) larger than this fails the run: it guards against an answer that
    /// never ends. Memory does not grow with the file; its rows are cut into pages.
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 8L * 1024 * 1024 * 1024;

    /// <summary>Retries of a failed request (5xx, 408, 429, network errors), with exponential backoff and jitter.</summary>
    [Range(0, 20)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>First retry delay; later ones grow exponentially.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Time allowed for one attempt of one request.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Share of failed requests to one agency, within <see cref="CircuitSamplingDuration"/>, that opens its circuit.</summary>
    [Range(0.01, 1.0)]
    public double CircuitFailureRatio { get; set; } = 0.5;

    /// <summary>Requests to one agency within the sampling window before the circuit may open.</summary>
    [Range(2, 10_000)]
    public int CircuitMinimumThroughput { get; set; } = 10;

    /// <summary>Window in which the failures of one agency are counted.</summary>
    public TimeSpan CircuitSamplingDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an open circuit refuses requests to the agency before one is tried again.</summary>
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Records per staged batch: one COPY into the run's staging table, in its own transaction; a page of more records is
    /// staged in several batches (docs/performance.md, ninth session, for 5,000).
    /// </summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 1000;
}

/// <summary>Protection of personal data (section <c>Privacy</c>).</summary>
public sealed class PrivacyOptions
{
    public const string SectionName = "Privacy";

    /// <summary>Secret key of the keyed hash applied to fields marked <c>"x-personal-data": "hash"</c>; keep it out of files.</summary>
    [MinLength(32)]
    public string? HashKey { get; set; }

    /// <summary>The key as bytes, or null when none is set.</summary>
    public byte[]? HashKeyBytes() => HashKey is null ? null : System.Text.Encoding.UTF8.GetBytes(HashKey);
}
