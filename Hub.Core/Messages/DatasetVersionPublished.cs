namespace Hub.Core.Messages;

/// <summary>A new version of a dataset is readable by the portal.</summary>
public sealed record DatasetVersionPublished(
    string DatasetId,
    long Version,
    Guid RunId,
    long Inserted,
    long Updated,
    long Deleted,
    long RowCount,
    DateTimeOffset PublishedAt);
