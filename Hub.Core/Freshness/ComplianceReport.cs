namespace Hub.Core.Freshness;

/// <summary>An agency's activity in a range, from the store: its datasets, records published, records checked.</summary>
public sealed record AgencyActivity(string AgencyCode, string AgencyName, int Datasets, long RecordsPublished, long RecordsChecked, long RecordsQuarantined);

/// <summary>
/// One agency's figures for a range: every obligation whose deadline day falls in the range (its period has started by
/// the cut-off), counted by its state at the cut-off. <c>Pending</c> counts those not yet decided (period still
/// running, open or at risk). The compliance rate is
/// on time / (on time + late + missing), waived ones aside; the median days late is over late obligations.
/// </summary>
public sealed record AgencyCompliance(
    string AgencyCode,
    string AgencyName,
    int Datasets,
    int Due,
    int OnTime,
    int Late,
    int Missing,
    int Waived,
    int Pending,
    decimal? ComplianceRate,
    decimal? MedianDaysLate,
    long RecordsPublished,
    decimal? QuarantineRate);

/// <summary>A compliance report over a range of Vietnam days (a quarter, or any range on request).</summary>
public sealed record ComplianceReport(
    string Title,
    DateOnly From,
    DateOnly To,
    DateTimeOffset CutOff,
    DateTimeOffset GeneratedAt,
    IReadOnlyList<AgencyCompliance> Agencies,
    AgencyCompliance Total,
    IReadOnlyList<Obligation> Obligations)
{
    /// <summary>
    /// Aggregates obligations (already evaluated at <paramref name="cutOff"/>) and activity into a report. Sorted
    /// by agency code, then dataset and period, so the same inputs always give the same report.
    /// </summary>
    public static ComplianceReport Build(
        string title, DateOnly from, DateOnly to, DateTimeOffset cutOff, DateTimeOffset generatedAt,
        IEnumerable<Obligation> obligations, IEnumerable<AgencyActivity> activity)
    {
        ArgumentNullException.ThrowIfNull(obligations);
        ArgumentNullException.ThrowIfNull(activity);
        var due = obligations
            .Where(o => o.DeadlineDay >= from && o.DeadlineDay <= to)
            .OrderBy(o => o.AgencyCode, StringComparer.Ordinal).ThenBy(o => o.DatasetId, StringComparer.Ordinal).ThenBy(o => o.PeriodStart).ThenBy(o => o.Cycle, StringComparer.Ordinal)
            .ToList();
        var agencies = activity.OrderBy(a => a.AgencyCode, StringComparer.Ordinal)
            .Select(a => Figures(a, due.Where(o => o.AgencyCode == a.AgencyCode).ToList()))
            .ToList();
        var total = Figures(
            new AgencyActivity("*", "*", agencies.Sum(a => a.Datasets), activity.Sum(a => a.RecordsPublished), activity.Sum(a => a.RecordsChecked), activity.Sum(a => a.RecordsQuarantined)),
            due);
        return new ComplianceReport(title, from, to, VietnamCalendar.ToVietnam(cutOff), VietnamCalendar.ToVietnam(generatedAt), agencies, total, due);
    }

    private static AgencyCompliance Figures(AgencyActivity activity, List<Obligation> due)
    {
        int Count(ObligationState state) => due.Count(o => o.State == state);
        var onTime = Count(ObligationState.OnTime);
        var late = Count(ObligationState.Late);
        var missing = Count(ObligationState.Missing);
        var decided = onTime + late + missing;
        return new AgencyCompliance(
            activity.AgencyCode,
            activity.AgencyName,
            activity.Datasets,
            due.Count,
            onTime,
            late,
            missing,
            Count(ObligationState.Waived),
            Count(ObligationState.NotDue) + Count(ObligationState.Open) + Count(ObligationState.AtRisk),
            decided == 0 ? null : Math.Round((decimal)onTime / decided, 4, MidpointRounding.AwayFromZero),
            Median(due.Where(o => o.State == ObligationState.Late).Select(o => o.DaysLate ?? 0).ToList()),
            activity.RecordsPublished,
            activity.RecordsChecked == 0 ? null : Math.Round((decimal)activity.RecordsQuarantined / activity.RecordsChecked, 4, MidpointRounding.AwayFromZero));
    }

    private static decimal? Median(List<int> values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        values.Sort();
        var middle = values.Count / 2;
        return values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2m;
    }
}

/// <summary>Titles of the reports in Vietnamese and English.</summary>
public static class ReportTitles
{
    private static readonly string[] Roman = ["I", "II", "III", "IV"];

    public static string Quarterly(int year, int quarter, bool english) => english
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Open data update compliance report, Q{quarter} {year}")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Báo cáo tình hình cập nhật dữ liệu mở quý {Roman[quarter - 1]} năm {year}");

    public static string Range(DateOnly from, DateOnly to, bool english) => english
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Open data update compliance, {from:yyyy-MM-dd} to {to:yyyy-MM-dd}")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Tình hình cập nhật dữ liệu mở từ {from:dd/MM/yyyy} đến {to:dd/MM/yyyy}");
}
