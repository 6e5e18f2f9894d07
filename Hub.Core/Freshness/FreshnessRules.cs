using Hub.Core.Catalog;

namespace Hub.Core.Freshness;

/// <summary>
/// The freshness rules (regulation Art. 4.6): which periods a dataset owes, their deadlines, and the state of each
/// obligation at an instant. Pure: the same history, options and "now" always give the same obligations.
/// </summary>
public sealed class FreshnessRules(FreshnessOptions options)
{
    public FreshnessOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>The deadline day of a period: its last day plus the cycle's deadline in calendar days.</summary>
    public DateOnly DeadlineDay(ReportingPeriod period) => period.Last.AddDays(Options.DeadlineDays(period.Cycle));

    /// <summary>The last second of the deadline day, Vietnam time (23:59:59 +07:00).</summary>
    public static DateTimeOffset DeadlineInstant(DateOnly deadlineDay) => VietnamCalendar.StartOfDay(deadlineDay.AddDays(1)).AddSeconds(-1);

    /// <summary>
    /// The periods a dataset owes, oldest first, through the one in progress at <paramref name="now"/>.
    /// A cycle applies from its first full period: the first period starting on or after the day (Vietnam time) it
    /// took effect, i.e. a dataset registered mid-period owes from the next period on. A later cycle starts with its
    /// first period that begins after the period in progress that day (under the cycle then in force) ends; the cycle
    /// in force keeps its periods that end before that. So no day is owed twice, and a change between cycles whose
    /// periods line up (daily, monthly, quarterly, half-yearly, yearly) leaves no gap; ISO weeks do not line up with
    /// months, so a change from or to weekly may leave up to 6 days owed by neither cycle.
    /// </summary>
    public static IReadOnlyList<ReportingPeriod> Periods(IReadOnlyList<CycleChange> cycles, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(cycles);
        var today = VietnamCalendar.DayOf(now);
        // Each cycle with the day its first period starts, in order; a change before a pending cycle started replaces it.
        var segments = new List<(UpdateCycle Cycle, DateOnly Start)>();
        foreach (var change in cycles.Where(c => c.EffectiveFrom <= now).OrderBy(c => c.EffectiveFrom))
        {
            var day = VietnamCalendar.DayOf(change.EffectiveFrom);
            var inForce = segments.FindLastIndex(s => s.Start <= day);
            var from = inForce >= 0 && segments[inForce].Cycle != UpdateCycle.Irregular
                ? ReportingPeriod.Containing(segments[inForce].Cycle, day).Last.AddDays(1)
                : day;
            var start = FirstFullStart(change.Cycle, from);
            segments.RemoveAll(s => s.Start >= start);
            segments.Add((change.Cycle, start));
        }

        var periods = new List<ReportingPeriod>();
        for (var i = 0; i < segments.Count; i++)
        {
            if (segments[i].Cycle == UpdateCycle.Irregular)
            {
                continue;
            }

            var stop = i + 1 < segments.Count ? segments[i + 1].Start : DateOnly.MaxValue;
            for (var period = ReportingPeriod.FirstStartingOnOrAfter(segments[i].Cycle, segments[i].Start);
                 period.Last < stop && period.First <= today;
                 period = period.Next())
            {
                periods.Add(period);
            }
        }

        return periods;
    }

    /// <summary>
    /// The deadline days a quarter's report covers: from <see cref="FreshnessOptions.QuarterlyReportDay"/> of the
    /// previous quarter's last month to the day before it in the quarter's last month (Q1 2026: 25 December 2025 to
    /// 24 March 2026). The windows of consecutive quarters follow each other, so each obligation is in one report.
    /// </summary>
    public (DateOnly From, DateOnly To) ReportWindow(ReportingPeriod quarter)
    {
        if (quarter.Cycle != UpdateCycle.Quarterly)
        {
            throw new ArgumentException("a report window belongs to a quarter", nameof(quarter));
        }

        var reportDay = new DateOnly(quarter.Last.Year, quarter.Last.Month, Options.QuarterlyReportDay);
        return (reportDay.AddMonths(-3), reportDay.AddDays(-1));
    }

    /// <summary>The report window (see <see cref="ReportWindow"/>) that contains <paramref name="day"/>.</summary>
    public (DateOnly From, DateOnly To) ReportWindowContaining(DateOnly day)
    {
        var quarter = ReportingPeriod.Containing(UpdateCycle.Quarterly, day);
        var window = ReportWindow(quarter);
        return day <= window.To ? window : ReportWindow(quarter.Next());
    }

    /// <summary>Every obligation of a dataset at <paramref name="now"/>, oldest period first.</summary>
    public IReadOnlyList<Obligation> Evaluate(DatasetHistory history, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(history);
        // Nothing is owed before the dataset was registered, whatever the cycle history says.
        var cycles = history.Cycles.Select(c => c with { EffectiveFrom = Max(c.EffectiveFrom, history.RegisteredAt) }).ToList();
        return Periods(cycles, now).Select(p => Evaluate(history, p, now)).ToList();
    }

    /// <summary>
    /// The state of one obligation at <paramref name="now"/>. Fulfilled by the earliest of: a version published at or
    /// after the period's end whose records cover the period (when the dataset has a period field), or the agency's
    /// "no change for this period" confirmation. A run that found nothing new only counts as a check. A waiver wins.
    /// </summary>
    public Obligation Evaluate(DatasetHistory history, ReportingPeriod period, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(history);
        var id = period.Id;
        var endsAt = period.EndsAt;
        var deadlineDay = DeadlineDay(period);
        var today = VietnamCalendar.DayOf(now);

        var publication = history.Publications
            .Where(p => p.PublishedAt >= endsAt && p.PublishedAt <= now && (p.CoveredPeriods is null || p.CoveredPeriods.Contains(id)))
            .OrderBy(p => p.PublishedAt).ThenBy(p => p.Version)
            .FirstOrDefault();
        var confirmation = history.Confirmations
            .Where(c => c.Period == id && c.At <= now)
            .OrderBy(c => c.At)
            .FirstOrDefault();
        DateTimeOffset? confirmedAt = confirmation is null ? null : Max(confirmation.At, endsAt);
        var byConfirmation = confirmedAt is { } c0 && (publication is null || c0 < publication.PublishedAt);
        DateTimeOffset? fulfilledAt = byConfirmation ? confirmedAt : publication?.PublishedAt;
        if (fulfilledAt > now)
        {
            fulfilledAt = null;
        }

        var waiver = history.Waivers.Where(w => w.Period == id && w.At <= now).OrderBy(w => w.At).FirstOrDefault();
        var checks = history.SuccessfulRuns.Where(r => r >= endsAt && r <= now).ToList();
        DateTimeOffset? lastChecked = checks.Count == 0 ? null : checks.Max();

        ObligationState state;
        int? daysLate = null;
        if (waiver is not null)
        {
            state = ObligationState.Waived;
        }
        else if (now < endsAt)
        {
            state = ObligationState.NotDue;
        }
        else if (fulfilledAt is { } at)
        {
            var late = VietnamCalendar.DayOf(at).DayNumber - deadlineDay.DayNumber;
            state = late > 0 ? ObligationState.Late : ObligationState.OnTime;
            daysLate = late > 0 ? late : 0;
        }
        else if (today > deadlineDay)
        {
            state = ObligationState.Missing;
            daysLate = today.DayNumber - deadlineDay.DayNumber;
        }
        else
        {
            state = deadlineDay.DayNumber - today.DayNumber <= Options.AtRiskDaysOf(period.Cycle) ? ObligationState.AtRisk : ObligationState.Open;
        }

        var fulfilled = state is ObligationState.OnTime or ObligationState.Late;
        return new Obligation(
            history.DatasetId,
            history.AgencyCode,
            id,
            FreshnessNames.Of(period.Cycle),
            period.First,
            period.Last,
            deadlineDay,
            VietnamCalendar.ToVietnam(DeadlineInstant(deadlineDay)),
            state,
            daysLate,
            fulfilled ? VietnamCalendar.ToVietnam(fulfilledAt!.Value) : null,
            fulfilled && !byConfirmation ? publication!.Version : null,
            fulfilled && byConfirmation,
            lastChecked is { } lc ? VietnamCalendar.ToVietnam(lc) : null,
            waiver?.Reason,
            waiver?.By);
    }

    private static DateOnly FirstFullStart(UpdateCycle cycle, DateOnly effective) =>
        cycle == UpdateCycle.Irregular ? effective : ReportingPeriod.FirstStartingOnOrAfter(cycle, effective).First;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a >= b ? a : b;
}
