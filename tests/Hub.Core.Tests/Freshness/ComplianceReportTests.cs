using System.Text;
using Hub.Core.Catalog;
using Hub.Core.Freshness;

namespace Hub.Core.Tests.Freshness;

public sealed class ComplianceReportTests
{
    private static readonly FreshnessRules Rules = new(new FreshnessOptions());

    // Q3 2026 counts the obligations whose deadline day falls in its report window, 25 June to 24 September:
    // monthly 2026-M06 (Jul 15), 2026-M07 (Aug 15), 2026-M08 (Sep 15); quarterly 2026-Q2 (Jul 30).
    private static readonly DatasetHistory[] Seeded =
    [
        Vn.History("2026-01-01", dataset: "a-thang", agency: "SA", published:
        [
            Vn.Published(1, "2026-07-10 08:00"), // M06 on time
            Vn.Published(2, "2026-08-20 08:00"), // M07 late by 5 days; M08 never: missing (16 days at the cut-off)
        ]),
        Vn.History("2026-01-01", UpdateCycle.Quarterly, dataset: "a-quy", agency: "SA", published: [Vn.Published(1, "2026-08-09 15:00")]), // Q2 late by 10
        Vn.History("2026-01-01", dataset: "b-thang", agency: "SB",
            published: [Vn.Published(7, "2026-08-01 00:00")], // M07 on time
            waivers: [new Waiver("2026-M06", "Hệ thống nguồn bảo trì", "ict.admin", Vn.At("2026-07-20 10:00"))],
            confirmations: [new NoChangeConfirmation("2026-M08", "Không thay đổi", "sb.user", Vn.At("2026-09-10 10:00"))]),
        Vn.History("2026-01-01", UpdateCycle.Irregular, dataset: "c-bat-thuong", agency: "SC"),
    ];

    private static readonly AgencyActivity[] Activity =
    [
        new("SB", "Sở B", 1, 300, 2000, 0),
        new("SA", "Sở A", 2, 1250, 1000, 25),
        new("SC", "Sở C", 1, 0, 0, 0),
    ];

    private static ComplianceReport Q3()
    {
        var cutOff = Vn.Clock("2026-10-01 00:00").GetUtcNow();
        var obligations = Seeded.SelectMany(h => Rules.Evaluate(h, cutOff));
        var (from, to) = Rules.ReportWindow(Quarter("2026-Q3"));
        return ComplianceReport.Build(ReportTitles.Quarterly(2026, 3, english: false), from, to, cutOff, Vn.At("2026-10-02 08:30"), obligations, Activity);
    }

    private static ReportingPeriod Quarter(string id) => ReportingPeriod.TryParse(id, out var quarter) ? quarter : throw new FormatException(id);

    private static ComplianceReport QuarterlyReport(string quarter, string cutOff, params DatasetHistory[] histories)
    {
        var (from, to) = Rules.ReportWindow(Quarter(quarter));
        var at = Vn.At(cutOff);
        return ComplianceReport.Build("t", from, to, at, at, histories.SelectMany(h => Rules.Evaluate(h, at)), [new AgencyActivity("AG", "A", histories.Length, 0, 0, 0)]);
    }

    [Fact]
    public void A_quarters_report_window_runs_from_the_previous_reporting_day_to_the_day_before_its_own()
    {
        Assert.Equal((Vn.Day("2025-12-25"), Vn.Day("2026-03-24")), Rules.ReportWindow(Quarter("2026-Q1")));
        Assert.Equal((Vn.Day("2026-09-25"), Vn.Day("2026-12-24")), Rules.ReportWindow(Quarter("2026-Q4")));
        for (var quarter = Quarter("2024-Q1"); quarter.First.Year < 2028; quarter = quarter.Next())
        {
            Assert.Equal(Rules.ReportWindow(quarter).To.AddDays(1), Rules.ReportWindow(quarter.Next()).From);
        }

        Assert.Equal((Vn.Day("2026-09-25"), Vn.Day("2026-12-24")), Rules.ReportWindowContaining(Vn.Day("2026-09-25")));
        Assert.Equal((Vn.Day("2026-06-25"), Vn.Day("2026-09-24")), Rules.ReportWindowContaining(Vn.Day("2026-09-24")));
        var (from, to) = new FreshnessRules(new FreshnessOptions { QuarterlyReportDay = 1 }).ReportWindow(Quarter("2026-Q1"));
        Assert.Equal((Vn.Day("2025-12-01"), Vn.Day("2026-02-28")), (from, to));
    }

    [Fact]
    public void A_yearly_obligation_due_after_the_reporting_day_is_counted_in_the_next_quarters_report()
    {
        // 2025's yearly data is due on 31 March 2026, after the Q1 report's window closed on 24 March.
        var yearly = Vn.History("2025-01-01", UpdateCycle.Yearly);

        var q1 = QuarterlyReport("2026-Q1", "2026-03-24 08:00", yearly);
        Assert.Equal((0, 0, 0), (q1.Total.Due, q1.Total.Pending, q1.Total.Missing));

        var q2 = QuarterlyReport("2026-Q2", "2026-06-24 08:00", yearly);
        Assert.Equal((1, 1, 0, (decimal?)0m), (q2.Total.Due, q2.Total.Missing, q2.Total.Pending, q2.Total.ComplianceRate));
        Assert.Equal(("2025", 85), (q2.Obligations.Single().Period, q2.Obligations.Single().DaysLate!.Value));
    }

    [Fact]
    public void A_daily_datasets_obligations_are_each_counted_in_one_quarterly_report_figure_by_figure()
    {
        // Daily from 1 September; one version on 10 September 10:00 fulfils the days 1 to 9 (9 on time, 1-8 late by 8..1 days).
        var daily = Vn.History("2026-09-01", UpdateCycle.Daily, published: [Vn.Published(1, "2026-09-10 10:00")]);

        var q3 = QuarterlyReport("2026-Q3", "2026-09-24 00:00", daily);
        var t = q3.Total;
        // Deadlines 2 to 24 September: the days 1 to 23; days 10 to 22 are missing, day 23 is open until the end of 24 September.
        Assert.Equal((23, 1, 8, 13, 0, 1), (t.Due, t.OnTime, t.Late, t.Missing, t.Waived, t.Pending));
        Assert.Equal((0.0455m, 4.5m), (t.ComplianceRate, t.MedianDaysLate));
        Assert.Equal(("2026-09-01", "2026-09-23"), (q3.Obligations[0].Period, q3.Obligations[^1].Period));

        var q4 = QuarterlyReport("2026-Q4", "2026-12-24 00:00", daily);
        Assert.Equal(("2026-09-24", "2026-12-23", 91), (q4.Obligations[0].Period, q4.Obligations[^1].Period, q4.Total.Due));
    }

    [Fact]
    public void Every_obligation_with_its_deadline_in_the_range_is_due_and_those_still_running_at_the_cut_off_are_pending()
    {
        var daily = Vn.History("2026-09-01", UpdateCycle.Daily);
        var cutOff = Vn.At("2026-09-10 12:00");

        var report = ComplianceReport.Build("t", Vn.Day("2026-09-01"), Vn.Day("2026-09-30"), cutOff, cutOff, Rules.Evaluate(daily, cutOff), [new AgencyActivity("AG", "A", 1, 0, 0, 0)]);

        // Days 1 to 8 missing; day 9 open (deadline today); day 10 still running: all due, the last two pending. Day 11 has not begun.
        Assert.Equal((10, 8, 2), (report.Total.Due, report.Total.Missing, report.Total.Pending));
        Assert.Equal(ObligationState.NotDue, report.Obligations[^1].State);
    }

    [Fact]
    public void The_quarterly_report_counts_each_agencys_obligations_figure_by_figure()
    {
        var report = Q3();

        Assert.Equal(["SA", "SB", "SC"], report.Agencies.Select(a => a.AgencyCode));
        var a = report.Agencies[0];
        Assert.Equal((2, 4, 1, 2, 1, 0, 0), (a.Datasets, a.Due, a.OnTime, a.Late, a.Missing, a.Waived, a.Pending));
        Assert.Equal((0.25m, 7.5m, 1250L, 0.025m), (a.ComplianceRate, a.MedianDaysLate, a.RecordsPublished, a.QuarantineRate));
        var b = report.Agencies[1];
        Assert.Equal((1, 3, 2, 0, 0, 1, 0), (b.Datasets, b.Due, b.OnTime, b.Late, b.Missing, b.Waived, b.Pending));
        Assert.Equal((1m, (decimal?)null, 300L, 0m), (b.ComplianceRate, b.MedianDaysLate, b.RecordsPublished, b.QuarantineRate));
        var c = report.Agencies[2];
        Assert.Equal((1, 0, (decimal?)null, (decimal?)null), (c.Datasets, c.Due, c.ComplianceRate, c.QuarantineRate));
        var t = report.Total;
        Assert.Equal((4, 7, 3, 2, 1, 1, 0), (t.Datasets, t.Due, t.OnTime, t.Late, t.Missing, t.Waived, t.Pending));
        Assert.Equal((0.5m, 7.5m, 1550L, 0.0083m), (t.ComplianceRate, t.MedianDaysLate, t.RecordsPublished, t.QuarantineRate));

        Assert.Equal(
            ["SA a-quy 2026-Q2 late 10", "SA a-thang 2026-M06 on_time 0", "SA a-thang 2026-M07 late 5", "SA a-thang 2026-M08 missing 16",
             "SB b-thang 2026-M06 waived ", "SB b-thang 2026-M07 on_time 0", "SB b-thang 2026-M08 on_time 0"],
            report.Obligations.Select(o => $"{o.AgencyCode} {o.DatasetId} {o.Period} {FreshnessNames.Of(o.State)} {o.DaysLate}"));
    }

    [Fact]
    public void Obligations_not_yet_decided_at_the_cut_off_are_pending()
    {
        var cutOff = Vn.At("2026-09-12 00:00");
        var obligations = Seeded.SelectMany(h => Rules.Evaluate(h, cutOff));
        var report = ComplianceReport.Build("t", Vn.Day("2026-07-01"), Vn.Day("2026-09-30"), cutOff, cutOff, obligations, Activity);
        var a = report.Agencies[0];
        Assert.Equal((4, 1, 2, 0, 1), (a.Due, a.OnTime, a.Late, a.Missing, a.Pending)); // M08 at risk: deadline Sep 15
        Assert.Equal(0.3333m, a.ComplianceRate);
    }

    [Fact]
    public void The_csv_is_utf8_with_a_bom_and_one_line_per_agency_and_a_total()
    {
        var csv = ReportRenderer.Render(Q3(), ReportFormat.Csv);

        Assert.Equal([0xEF, 0xBB, 0xBF], csv.Content.Take(3));
        var lines = Encoding.UTF8.GetString(csv.Content.AsSpan(3)).Split("\r\n");
        Assert.Equal("Mã cơ quan,Cơ quan,Số bộ dữ liệu,Nghĩa vụ đến hạn,Đúng hạn,Trễ hạn,Không cập nhật,Được miễn,Chưa xác định,Tỷ lệ tuân thủ,Số ngày trễ (trung vị),Số bản ghi công bố,Tỷ lệ bản ghi bị cách ly", lines[0]);
        Assert.Equal("SA,Sở A,2,4,1,2,1,0,0,0.25,7.5,1250,0.025", lines[1]);
        Assert.Equal("SB,Sở B,1,3,2,0,0,1,0,1,,300,0", lines[2]);
        Assert.Equal("SC,Sở C,1,0,0,0,0,0,0,,,0,", lines[3]);
        Assert.Equal(",Tổng cộng,4,7,3,2,1,1,0,0.5,7.5,1550,0.0083", lines[4]);
        Assert.Equal(string.Empty, lines[5]);
    }

    [Fact]
    public void The_html_is_vietnamese_by_default_states_cut_off_and_generation_time_and_is_byte_identical_for_the_same_inputs()
    {
        var html = Encoding.UTF8.GetString(ReportRenderer.Render(Q3(), ReportFormat.Html).Content);

        Assert.Contains("<html lang=\"vi\">", html, StringComparison.Ordinal);
        Assert.Contains("Báo cáo tình hình cập nhật dữ liệu mở quý III năm 2026", html, StringComparison.Ordinal);
        Assert.Contains("Số liệu chốt đến: 00:00:00 01/10/2026 (+07:00)", html, StringComparison.Ordinal);
        Assert.Contains("Lập lúc: 08:30:00 02/10/2026 (+07:00)", html, StringComparison.Ordinal);
        Assert.Contains("@media print", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"n\">0,25</td>", html, StringComparison.Ordinal);
        Assert.Equal(ReportRenderer.Render(Q3(), ReportFormat.Html).Content, ReportRenderer.Render(Q3(), ReportFormat.Html).Content);
        Assert.Equal(ReportRenderer.Render(Q3(), ReportFormat.Json).Content, ReportRenderer.Render(Q3(), ReportFormat.Json).Content);
    }

    [Fact]
    public void The_html_is_available_in_english()
    {
        var report = Q3() with { Title = ReportTitles.Quarterly(2026, 3, english: true) };
        var html = Encoding.UTF8.GetString(ReportRenderer.Render(report, ReportFormat.Html, english: true).Content);

        Assert.Contains("<html lang=\"en\">", html, StringComparison.Ordinal);
        Assert.Contains("Open data update compliance report, Q3 2026", html, StringComparison.Ordinal);
        Assert.Contains("Figures as of (cut-off): 2026-10-01 00:00:00 +07:00", html, StringComparison.Ordinal);
        Assert.Contains("<td>missing</td>", html, StringComparison.Ordinal);
    }
}
