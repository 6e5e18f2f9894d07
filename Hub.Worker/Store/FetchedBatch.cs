using Hub.Core.Messages;

namespace Hub.Worker.Store;

/// <summary>
/// One page (or part of a page) of a run, checked: its valid records, its rejected ones with their reasons, and the
/// blank and untrimmed text values of the valid ones. The connector that fetched it stages it itself
/// (<see cref="SnapshotWriter.StageAsync"/>): records never travel over the bus (claim check).
/// </summary>
public sealed record FetchedBatch(
    Guid RunId,
    string DatasetId,
    int Sequence,
    FetchedRequest Request,
    IReadOnlyList<ValidRecord> Records,
    IReadOnlyList<RejectedRecord> Rejected,
    int BlankValues = 0,
    int UntrimmedValues = 0);
