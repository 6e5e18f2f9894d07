using System.Text.Json.Serialization;
using Hub.Core.Catalog;

namespace Hub.Core.Freshness;

/// <summary>Where one obligation (a dataset and a reporting period) stands at a given instant.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ObligationState>))]
public enum ObligationState
{
    /// <summary>The period has not ended yet.</summary>
    [JsonStringEnumMemberName("not_due")] NotDue,

    /// <summary>The period ended, the deadline is further away than the cycle's <see cref="FreshnessOptions.AtRiskDaysOf"/>, not fulfilled yet.</summary>
    [JsonStringEnumMemberName("open")] Open,

    /// <summary>Not fulfilled and the deadline day is at most the cycle's <see cref="FreshnessOptions.AtRiskDaysOf"/> days away.</summary>
    [JsonStringEnumMemberName("at_risk")] AtRisk,

    [JsonStringEnumMemberName("on_time")] OnTime,

    /// <summary>Fulfilled after the deadline; <see cref="Obligation.DaysLate"/> says by how many days.</summary>
    [JsonStringEnumMemberName("late")] Late,

    /// <summary>The deadline passed and the obligation is still not fulfilled.</summary>
    [JsonStringEnumMemberName("missing")] Missing,

    [JsonStringEnumMemberName("waived")] Waived,
}

/// <summary>Names of states and cycles as the API, the store and the reports write them.</summary>
public static class FreshnessNames
{
    public static string Of(ObligationState state) => state switch
    {
        ObligationState.NotDue => "not_due",
        ObligationState.Open => "open",
        ObligationState.AtRisk => "at_risk",
        ObligationState.OnTime => "on_time",
        ObligationState.Late => "late",
        ObligationState.Missing => "missing",
        _ => "waived",
    };

    public static bool TryParseState(string? text, out ObligationState state)
    {
        foreach (var candidate in Enum.GetValues<ObligationState>())
        {
            if (string.Equals(Of(candidate), text, StringComparison.OrdinalIgnoreCase))
            {
                state = candidate;
                return true;
            }
        }

        state = default;
        return false;
    }

    public static string Of(UpdateCycle cycle) => cycle == UpdateCycle.HalfYearly ? "half_yearly" : cycle.ToString().ToLowerInvariant();

    /// <summary>Reads a cycle written as <see cref="Of(UpdateCycle)"/> does (<c>half_yearly</c>), ignoring case, '_' and '-'.</summary>
    public static bool TryParseCycle(string? text, out UpdateCycle cycle) =>
        Enum.TryParse((text ?? string.Empty).Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal), ignoreCase: true, out cycle)
        && Enum.IsDefined(cycle);
}

/// <summary>
/// One dataset's duty for one reporting period: its deadline (the last second of the deadline day,
/// 23:59:59 +07:00), its state and what fulfilled it.
/// </summary>
public sealed record Obligation(
    string DatasetId,
    string AgencyCode,
    string Period,
    string Cycle,
    DateOnly PeriodStart,
    DateOnly PeriodEnd,
    DateOnly DeadlineDay,
    DateTimeOffset Deadline,
    ObligationState State,
    int? DaysLate,
    DateTimeOffset? FulfilledAt,
    long? FulfilledByVersion,
    bool ConfirmedNoChange,
    DateTimeOffset? LastCheckedAt,
    string? WaiverReason,
    string? WaivedBy);
