using Hub.Core.Catalog;

namespace Hub.Core.Freshness;

/// <summary>The cycle a dataset declares from an instant on (a dataset's cycle history).</summary>
public sealed record CycleChange(UpdateCycle Cycle, DateTimeOffset EffectiveFrom);

/// <summary>
/// A version the dataset published. <see cref="CoveredPeriods"/> is null when the dataset names no period field;
/// otherwise it holds the ids of the periods that the records it published (inserted or updated) cover, see
/// <see cref="ReportingPeriod.CoveredBy"/>.
/// </summary>
public sealed record PublicationFact(long Version, DateTimeOffset PublishedAt, IReadOnlySet<string>? CoveredPeriods = null);

/// <summary>An operator waived the obligation of a period (e.g. the agency had no data to collect).</summary>
public sealed record Waiver(string Period, string Reason, string By, DateTimeOffset At);

/// <summary>The agency confirmed that the data did not change for a period: the obligation is fulfilled then.</summary>
public sealed record NoChangeConfirmation(string Period, string Reason, string By, DateTimeOffset At);

/// <summary>Everything the freshness rules need to know about one dataset; facts after "now" are ignored.</summary>
public sealed record DatasetHistory(
    string DatasetId,
    string AgencyCode,
    DateTimeOffset RegisteredAt,
    IReadOnlyList<CycleChange> Cycles,
    IReadOnlyList<PublicationFact> Publications,
    IReadOnlyList<DateTimeOffset> SuccessfulRuns,
    IReadOnlyList<Waiver> Waivers,
    IReadOnlyList<NoChangeConfirmation> Confirmations);
