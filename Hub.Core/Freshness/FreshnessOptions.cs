using Hub.Core.Catalog;

namespace Hub.Core.Freshness;

/// <summary>
/// Deadlines of the update cycles (section <c>Freshness</c>). Regulation Art. 4.6 sets monthly 15, quarterly 30
/// and yearly 90 calendar days after the period ends; daily 1, weekly 3 and half-yearly 30 are the hub's defaults
/// for the cycles the regulation does not name. Deadlines are whole calendar days, hence counts, not TimeSpans.
/// </summary>
public sealed class FreshnessOptions
{
    public const string SectionName = "Freshness";

    public int DailyDeadlineDays { get; set; } = 1;

    public int WeeklyDeadlineDays { get; set; } = 3;

    public int MonthlyDeadlineDays { get; set; } = 15;

    public int QuarterlyDeadlineDays { get; set; } = 30;

    public int HalfYearlyDeadlineDays { get; set; } = 30;

    public int YearlyDeadlineDays { get; set; } = 90;

    /// <summary>
    /// An open obligation is at risk when its deadline day is this many days away or fewer; capped per cycle by
    /// <see cref="AtRiskDaysOf"/>.
    /// </summary>
    public int AtRiskDays { get; set; } = 5;

    /// <summary>
    /// The quarterly report is due before this day of the quarter's last month (Art. 11.4); it covers the obligations
    /// whose deadline day falls from this day of the previous quarter's last month to the day before it in this one.
    /// </summary>
    public int QuarterlyReportDay { get; set; } = 25;

    /// <summary>How often the worker evaluates the obligations and publishes their changes.</summary>
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>A connector is behind its schedule when a scheduled run is due for longer than this without a success.</summary>
    public TimeSpan ConnectorGrace { get; set; } = TimeSpan.FromHours(1);

    public int DeadlineDays(UpdateCycle cycle) => cycle switch
    {
        UpdateCycle.Daily => DailyDeadlineDays,
        UpdateCycle.Weekly => WeeklyDeadlineDays,
        UpdateCycle.Monthly => MonthlyDeadlineDays,
        UpdateCycle.Quarterly => QuarterlyDeadlineDays,
        UpdateCycle.HalfYearly => HalfYearlyDeadlineDays,
        UpdateCycle.Yearly => YearlyDeadlineDays,
        _ => throw new ArgumentOutOfRangeException(nameof(cycle), cycle, "an irregular cycle has no deadline"),
    };

    /// <summary>
    /// The at-risk window of a cycle: <see cref="AtRiskDays"/>, but at most the cycle's deadline less two days, so an
    /// obligation is open on the first day after its period ends. Negative when the cycle is never at risk: with the
    /// defaults, daily data (1 day to update) goes from open to missing; weekly data (3 days) is at risk for its last two.
    /// </summary>
    public int AtRiskDaysOf(UpdateCycle cycle) => Math.Min(AtRiskDays, DeadlineDays(cycle) - 2);

    /// <summary>The problems of these settings, empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        foreach (var cycle in new[] { UpdateCycle.Daily, UpdateCycle.Weekly, UpdateCycle.Monthly, UpdateCycle.Quarterly, UpdateCycle.HalfYearly, UpdateCycle.Yearly })
        {
            if (DeadlineDays(cycle) < 0)
            {
                problems.Add($"Freshness:{cycle}DeadlineDays must be 0 or more");
            }
        }

        if (AtRiskDays < 0)
        {
            problems.Add("Freshness:AtRiskDays must be 0 or more");
        }

        if (QuarterlyReportDay is < 1 or > 28)
        {
            problems.Add("Freshness:QuarterlyReportDay must be between 1 and 28");
        }

        if (EvaluationInterval <= TimeSpan.Zero)
        {
            problems.Add("Freshness:EvaluationInterval must be positive");
        }

        return problems;
    }
}
