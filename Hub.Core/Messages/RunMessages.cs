namespace Hub.Core.Messages;

// Message contracts between the connectors (producers) and the snapshot writer (consumer).
// Immutable, past tense. Records travel as compact JSON text; the raw page they came from is stored
// content-addressed by the connector and named here by its SHA-256 (claim check).

/// <summary>
/// One page (or part of a page) of an agency's data was fetched and checked. <see cref="BlankValues"/> and
/// <see cref="UntrimmedValues"/> count text values of the valid records that are blank or carry surrounding spaces.
/// </summary>
public sealed record RecordBatchFetched(
    Guid RunId,
    string DatasetId,
    int Sequence,
    FetchedRequest Request,
    IReadOnlyList<ValidRecord> Records,
    IReadOnlyList<RejectedRecord> Rejected,
    int BlankValues = 0,
    int UntrimmedValues = 0);

/// <summary>
/// Where a batch came from: the run's request number, its URL (without secrets), time, status and payload hash.
/// </summary>
public sealed record FetchedRequest(int Sequence, string Url, DateTimeOffset FetchedAt, int StatusCode, string PayloadSha256);

/// <summary>
/// A record that passed the dataset's schema: its key, content hash (hex SHA-256) and JSON. <see cref="Json"/> is
/// null for a record unchanged since the published version: the writer keeps the published row.
/// </summary>
public sealed record ValidRecord(string Key, string Hash, string? Json);

/// <summary>A record that failed validation, kept whole with every reason.</summary>
public sealed record RejectedRecord(string? Key, string Json, IReadOnlyList<string> Errors);

/// <summary>
/// The connector fetched every page of a run; the writer may publish once all batches are staged.
/// <see cref="Cursor"/> is the largest incremental-sync cursor value among the valid records (null when the
/// dataset is not incremental or the run saw none); the writer keeps it for the next run when it publishes the run.
/// </summary>
public sealed record RunFetchCompleted(Guid RunId, string DatasetId, int BatchCount, long Fetched, string? Cursor = null);
