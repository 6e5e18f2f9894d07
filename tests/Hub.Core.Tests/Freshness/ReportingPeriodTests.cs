using Hub.Core.Catalog;
using Hub.Core.Freshness;

namespace Hub.Core.Tests.Freshness;

public sealed class ReportingPeriodTests
{
    private static readonly FreshnessRules Rules = new(new FreshnessOptions());

    private static ReportingPeriod Parse(string id) => ReportingPeriod.TryParse(id, out var p) ? p : throw new FormatException(id);

    [Theory]
    [InlineData("2026-M01", "2026-01-31", "2026-02-15")] // 31 days
    [InlineData("2026-M02", "2026-02-28", "2026-03-15")] // 28 days
    [InlineData("2024-M02", "2024-02-29", "2024-03-15")] // 29 days, leap year
    [InlineData("2026-M04", "2026-04-30", "2026-05-15")] // 30 days
    [InlineData("2026-M12", "2026-12-31", "2027-01-15")] // year boundary
    public void Deadline_for_monthly_data_is_15_days_after_month_end(string period, string last, string deadline)
    {
        var p = Parse(period);
        Assert.Equal((UpdateCycle.Monthly, Vn.Day(last)), (p.Cycle, p.Last));
        Assert.Equal(Vn.Day(deadline), Rules.DeadlineDay(p));
    }

    [Theory]
    [InlineData("2026-Q1", "2026-01-01", "2026-03-31", "2026-04-30")]
    [InlineData("2026-Q3", "2026-07-01", "2026-09-30", "2026-10-30")]
    [InlineData("2026-Q4", "2026-10-01", "2026-12-31", "2027-01-30")]
    [InlineData("2025-Q4", "2025-10-01", "2025-12-31", "2026-01-30")]
    public void Deadline_for_quarterly_data_is_30_days_after_quarter_end(string period, string first, string last, string deadline)
    {
        var p = Parse(period);
        Assert.Equal((UpdateCycle.Quarterly, Vn.Day(first), Vn.Day(last)), (p.Cycle, p.First, p.Last));
        Assert.Equal(Vn.Day(deadline), Rules.DeadlineDay(p));
    }

    [Theory]
    [InlineData("2025", "2026-03-31")] // 2026 is not a leap year: Jan 31 + Feb 28 + Mar 31 = 90
    [InlineData("2023", "2024-03-30")] // 2024 is: Feb 29 moves the deadline one day earlier
    public void Deadline_for_yearly_data_is_90_days_after_year_end(string period, string deadline)
    {
        var p = Parse(period);
        Assert.Equal((UpdateCycle.Yearly, 12, 31), (p.Cycle, p.Last.Month, p.Last.Day));
        Assert.Equal(Vn.Day(deadline), Rules.DeadlineDay(p));
    }

    [Theory]
    [InlineData("2026-H1", UpdateCycle.HalfYearly, "2026-01-01", "2026-06-30", "2026-07-30")]
    [InlineData("2026-H2", UpdateCycle.HalfYearly, "2026-07-01", "2026-12-31", "2027-01-30")]
    [InlineData("2026-W14", UpdateCycle.Weekly, "2026-03-30", "2026-04-05", "2026-04-08")]
    [InlineData("2026-W01", UpdateCycle.Weekly, "2025-12-29", "2026-01-04", "2026-01-07")]
    [InlineData("2026-W53", UpdateCycle.Weekly, "2026-12-28", "2027-01-03", "2027-01-06")]
    [InlineData("2026-11-28", UpdateCycle.Daily, "2026-11-28", "2026-11-28", "2026-11-29")]
    [InlineData("2024-02-29", UpdateCycle.Daily, "2024-02-29", "2024-02-29", "2024-03-01")]
    public void Default_deadlines_of_the_cycles_the_regulation_does_not_name(string period, UpdateCycle cycle, string first, string last, string deadline)
    {
        var p = Parse(period);
        Assert.Equal((cycle, Vn.Day(first), Vn.Day(last), period), (p.Cycle, p.First, p.Last, p.Id));
        Assert.Equal(Vn.Day(deadline), Rules.DeadlineDay(p));
    }

    [Fact]
    public void Deadlines_are_configurable()
    {
        var rules = new FreshnessRules(new FreshnessOptions { MonthlyDeadlineDays = 10, YearlyDeadlineDays = 60 });
        Assert.Equal(Vn.Day("2026-03-10"), rules.DeadlineDay(Parse("2026-M02")));
        Assert.Equal(Vn.Day("2026-03-01"), rules.DeadlineDay(Parse("2025")));
    }

    [Fact]
    public void A_deadline_day_ends_at_23_59_59_Vietnam_time()
    {
        var deadline = FreshnessRules.DeadlineInstant(Vn.Day("2026-03-15"));
        Assert.Equal(new DateTimeOffset(2026, 3, 15, 16, 59, 59, TimeSpan.Zero), deadline);
        Assert.Equal(new DateTimeOffset(2026, 2, 28, 17, 0, 0, TimeSpan.Zero), Parse("2026-M02").EndsAt); // 2026-03-01 00:00 +07:00
    }

    [Theory]
    [InlineData("2026-M03")]
    [InlineData("2026-Q3")]
    [InlineData("2026-H1")]
    [InlineData("2026")]
    [InlineData("2026-W14")]
    [InlineData("2026-11-28")]
    public void Period_ids_round_trip(string id) => Assert.Equal(id, Parse(id).Id);

    [Theory]
    [InlineData("2026-M13")]
    [InlineData("2026-Q5")]
    [InlineData("2026-H3")]
    [InlineData("2025-W53")] // 2025 has 52 ISO weeks
    [InlineData("2026-02-30")]
    [InlineData("Q3-2026")]
    [InlineData("")]
    public void Invalid_period_ids_are_refused(string id) => Assert.False(ReportingPeriod.TryParse(id, out _));

    [Theory]
    [InlineData("2026-03", "2026-M03,2026-Q1,2026-H1,2026")]
    [InlineData(" 03/2026 ", "2026-M03,2026-Q1,2026-H1,2026")]
    [InlineData("3/2026", "2026-M03,2026-Q1,2026-H1,2026")]
    [InlineData("2026-03-31", "2026-03-31,2026-W14,2026-M03,2026-Q1,2026-H1,2026")]
    [InlineData("31/03/2026", "2026-03-31,2026-W14,2026-M03,2026-Q1,2026-H1,2026")]
    [InlineData("2026-Q3", "2026-Q3,2026-H2,2026")]
    [InlineData("2026", "2026")] // a year covers a yearly period only
    [InlineData("2026-W01", "2026-W01")] // 29 Dec 2025 to 4 Jan 2026: in no single month
    [InlineData("2026-13", "")]
    [InlineData("quý 3", "")]
    public void A_period_field_value_covers_every_period_that_holds_all_its_days(string value, string covered) =>
        Assert.Equal(
            covered.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal),
            ReportingPeriod.CoveredBy([value]).Order(StringComparer.Ordinal));

    [Fact]
    public void Periods_follow_each_other_across_year_boundaries()
    {
        Assert.Equal("2026-W53", ReportingPeriod.Containing(UpdateCycle.Weekly, Vn.Day("2027-01-01")).Id);
        Assert.Equal("2027-W01", ReportingPeriod.Containing(UpdateCycle.Weekly, Vn.Day("2027-01-01")).Next().Id);
        Assert.Equal("2027-Q1", Parse("2026-Q4").Next().Id);
        Assert.Equal("2027-M01", Parse("2026-M12").Next().Id);
        Assert.Equal("2025-01-01", Parse("2024-12-31").Next().Id);
    }
}

public sealed class FreshnessOptionsTests
{
    [Fact]
    public void The_defaults_are_the_regulations_and_valid()
    {
        var options = new FreshnessOptions();
        Assert.Equal((15, 30, 90, 1, 3, 30, 5), (options.DeadlineDays(UpdateCycle.Monthly), options.DeadlineDays(UpdateCycle.Quarterly), options.DeadlineDays(UpdateCycle.Yearly),
            options.DeadlineDays(UpdateCycle.Daily), options.DeadlineDays(UpdateCycle.Weekly), options.DeadlineDays(UpdateCycle.HalfYearly), options.AtRiskDays));
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Negative_deadlines_and_a_zero_interval_are_refused()
    {
        var options = new FreshnessOptions { MonthlyDeadlineDays = -1, AtRiskDays = -2, QuarterlyReportDay = 29, EvaluationInterval = TimeSpan.Zero };
        Assert.Equal(
            ["Freshness:MonthlyDeadlineDays must be 0 or more", "Freshness:AtRiskDays must be 0 or more", "Freshness:QuarterlyReportDay must be between 1 and 28",
             "Freshness:EvaluationInterval must be positive"],
            options.Validate());
    }
}
