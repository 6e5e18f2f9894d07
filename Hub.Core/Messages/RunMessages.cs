namespace Hub.Core.Messages;

// What a connector hands the snapshot writer. Records do not cross the bus: the connector stages each checked batch
// in PostgreSQL itself (claim check), next to the raw page it came from (stored content-addressed, named by its
// SHA-256); only RunFetchCompleted is a message. Immutable, past tense.

/// <summary>
/// Where a batch came from: the run's request number, its URL (without secrets), time, status and payload hash.
/// </summary>
public sealed record FetchedRequest(int Sequence, string Url, DateTimeOffset FetchedAt, int StatusCode, string PayloadSha256);

/// <summary>
/// A record that passed the dataset's schema: its key, content hash (hex SHA-256) and JSON, the canonical UTF-8 bytes
/// that were hashed. <see cref="Json"/> is null for a record unchanged since the published version: the writer keeps the
/// published row. <see cref="Deleted"/> marks a deletion of the key the agency sent (<c>deleted_when</c>): it has
/// neither hash nor JSON, and the writer ends the key's published row.
/// </summary>
public sealed record ValidRecord(string Key, string Hash, byte[]? Json, bool Deleted = false)
{
    /// <summary>The deletion of <paramref name="key"/>.</summary>
    public static ValidRecord Deletion(string key) => new(key, string.Empty, null, Deleted: true);
}

/// <summary>A record that failed validation, kept whole with every reason.</summary>
public sealed record RejectedRecord(string? Key, string Json, IReadOnlyList<string> Errors);

/// <summary>
/// The connector fetched every page of a run; the writer may publish once all batches are staged.
/// <see cref="Cursor"/> is the largest incremental-sync cursor value among the valid records (null when the
/// dataset is not incremental or the run saw none); the writer keeps it for the next run when it publishes the run.
/// </summary>
public sealed record RunFetchCompleted(Guid RunId, string DatasetId, int BatchCount, long Fetched, string? Cursor = null);
