using System.Text.Json;

namespace Hub.Core.Messages;

/// <summary>
/// Record-level changes of one published version, in parts of at most a few hundred changes, sent before the
/// version's <see cref="DatasetVersionPublished"/>. The envelope follows CloudEvents 1.0 attribute names
/// (<c>specversion</c>, <c>id</c>, <c>source</c>, <c>type</c>, <c>time</c>); <see cref="Id"/> is stable for a
/// given dataset, version and part, so a consumer can drop redeliveries. Contract: docs/events.md.
/// </summary>
public sealed record RecordChangesPublished(
    string SpecVersion,
    string Id,
    string Source,
    string Type,
    DateTimeOffset Time,
    string DatasetId,
    long Version,
    Guid RunId,
    int Part,
    int Parts,
    IReadOnlyList<RecordChangeEvent> Changes)
{
    public const string EventType = "vn.gov.ninhthuan.opendata.record-changes.v1";

    public static string SourceOf(string datasetId) => $"/datasets/{datasetId}";

    public static string IdOf(string datasetId, long version, int part) => $"{datasetId}/{version}/{part}";
}

/// <summary>One change: <c>c</c> (created), <c>u</c> (updated, <see cref="Values"/> are the new ones) or <c>d</c> (deleted, no values).</summary>
public sealed record RecordChangeEvent(string Op, string Key, JsonElement? Values);
