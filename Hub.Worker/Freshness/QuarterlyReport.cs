using System.Globalization;
using Hub.Core.Catalog;
using Hub.Core.Freshness;

namespace Hub.Worker.Freshness;

/// <summary>The quarterly compliance report (Art. 11.4, 12.5, 15.2), shared by the API and the CLI.</summary>
public static class QuarterlyReport
{
    /// <summary>Reads a quarter written <c>3</c> or <c>Q3</c> of a year.</summary>
    public static bool TryParseQuarter(int year, string? quarter, out ReportingPeriod period)
    {
        period = default;
        var text = (quarter ?? string.Empty).Trim().TrimStart('Q', 'q');
        return year is >= 2000 and <= 9999
               && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
               && ReportingPeriod.TryParse(string.Create(CultureInfo.InvariantCulture, $"{year:0000}-Q{n}"), out period)
               && period.Cycle == UpdateCycle.Quarterly;
    }

    /// <summary>Computes and renders the report of a quarter (its report window, see <see cref="FreshnessRules.ReportWindow"/>) as of <paramref name="cutOff"/>.</summary>
    public static async Task<RenderedReport> RenderAsync(
        FreshnessStore store, ReportingPeriod quarter, ReportFormat format, bool english, DateTimeOffset cutOff, DateTimeOffset generatedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var number = ((quarter.First.Month - 1) / 3) + 1;
        var (from, to) = store.Rules.ReportWindow(quarter);
        var report = await store.ReportAsync(
            ReportTitles.Quarterly(quarter.First.Year, number, english), from, to, cutOff, generatedAt, agency: null, cancellationToken);
        return ReportRenderer.Render(report, format, english);
    }
}
