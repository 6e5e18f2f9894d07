using Hub.Core.Freshness;

namespace Hub.Core.Messages;

/// <summary>
/// An obligation turned at risk, late or missing (published once per transition, for notifiers to subscribe to).
/// <see cref="OldState"/> is the state last announced, or null when none was.
/// </summary>
public sealed record FreshnessObligationChanged(
    string DatasetId,
    string AgencyCode,
    string Period,
    ObligationState? OldState,
    ObligationState NewState,
    DateTimeOffset Deadline,
    int? DaysLate,
    DateTimeOffset EvaluatedAt);
