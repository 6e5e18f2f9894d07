using Hub.Core.Catalog;
using Hub.Core.Freshness;

namespace Hub.Core.Tests.Freshness;

public sealed class FreshnessRulesTests
{
    private static readonly FreshnessRules Rules = new(new FreshnessOptions());

    private static Obligation Of(DatasetHistory history, string period, string now) =>
        Rules.Evaluate(history, Vn.Clock(now).GetUtcNow()).Single(o => o.Period == period);

    [Fact]
    public void A_version_published_at_23_59_on_the_deadline_day_is_on_time()
    {
        var published = Vn.At("2026-02-15 23:59");
        Assert.Equal(new DateTimeOffset(2026, 2, 15, 16, 59, 0, TimeSpan.Zero), published);
        var history = Vn.History("2025-12-01", published: [new PublicationFact(3, published)]);

        var o = Of(history, "2026-M01", "2026-03-01 12:00");

        Assert.Equal((ObligationState.OnTime, 0, 3L), (o.State, o.DaysLate, o.FulfilledByVersion));
        Assert.Equal(Vn.At("2026-02-15 23:59:59"), o.Deadline);
        Assert.Equal(TimeSpan.FromHours(7), o.Deadline.Offset);
    }

    [Fact]
    public void A_version_published_at_00_01_Vietnam_time_after_the_deadline_day_is_one_day_late_though_still_the_deadline_day_in_UTC()
    {
        var published = Vn.At("2026-02-16 00:01");
        Assert.Equal(new DateTimeOffset(2026, 2, 15, 17, 1, 0, TimeSpan.Zero), published); // still Feb 15 in UTC
        var history = Vn.History("2025-12-01", published: [new PublicationFact(4, published)]);

        var o = Of(history, "2026-M01", "2026-03-01 12:00");

        Assert.Equal((ObligationState.Late, 1), (o.State, o.DaysLate));
    }

    [Fact]
    public void A_late_version_counts_its_calendar_days_late_and_a_missing_obligation_keeps_counting()
    {
        var history = Vn.History("2025-12-01", published: [Vn.Published(5, "2026-03-01 09:00")]);

        Assert.Equal((ObligationState.Missing, 13), (Of(history, "2026-M01", "2026-02-28 20:00").State, Of(history, "2026-M01", "2026-02-28 20:00").DaysLate));
        var late = Of(history, "2026-M01", "2026-04-01 00:00");
        Assert.Equal((ObligationState.Late, 14, 5L), (late.State, late.DaysLate, late.FulfilledByVersion));
        Assert.Equal(Vn.At("2026-03-01 09:00"), late.FulfilledAt);
    }

    [Fact]
    public void A_version_published_before_the_period_ends_does_not_fulfil_it()
    {
        var history = Vn.History("2025-12-01", published: [Vn.Published(1, "2026-01-31 23:59"), Vn.Published(2, "2026-02-01 00:00")]);

        var o = Of(history, "2026-M01", "2026-02-02 00:00");

        Assert.Equal((ObligationState.OnTime, 2L), (o.State, o.FulfilledByVersion));
    }

    [Theory]
    [InlineData("2026-01-31 23:59", ObligationState.NotDue, null)]
    [InlineData("2026-02-01 00:00", ObligationState.Open, null)]
    [InlineData("2026-02-09 23:59", ObligationState.Open, null)]
    [InlineData("2026-02-10 00:00", ObligationState.AtRisk, null)] // 5 days before the deadline day
    [InlineData("2026-02-15 23:59:59", ObligationState.AtRisk, null)]
    [InlineData("2026-02-16 00:00", ObligationState.Missing, 1)]
    [InlineData("2026-03-17 08:00", ObligationState.Missing, 30)]
    public void An_unfulfilled_obligation_goes_from_not_due_to_open_at_risk_and_missing(string now, ObligationState state, int? daysLate)
    {
        var o = Of(Vn.History("2025-12-01"), "2026-M01", now);
        Assert.Equal((state, daysLate), (o.State, o.DaysLate));
    }

    [Fact]
    public void At_risk_window_is_configurable()
    {
        var rules = new FreshnessRules(new FreshnessOptions { AtRiskDays = 10 });
        var o = rules.Evaluate(Vn.History("2025-12-01"), Vn.At("2026-02-05 00:00")).Single(x => x.Period == "2026-M01");
        Assert.Equal(ObligationState.AtRisk, o.State);
    }

    [Theory]
    [InlineData("2026-03-02 00:05", ObligationState.Open)] // a day's data is open for its single day to update, then missing
    [InlineData("2026-03-02 23:59", ObligationState.Open)]
    [InlineData("2026-03-03 00:00", ObligationState.Missing)]
    public void Daily_data_is_never_at_risk(string now, ObligationState state) =>
        Assert.Equal(state, Of(Vn.History("2026-01-01", UpdateCycle.Daily), "2026-03-01", now).State);

    [Theory]
    [InlineData("2026-03-02 00:05", ObligationState.Open)] // W09 ends Sunday 1 March, deadline day Wednesday 4 March
    [InlineData("2026-03-03 00:00", ObligationState.AtRisk)]
    [InlineData("2026-03-04 23:59", ObligationState.AtRisk)]
    [InlineData("2026-03-05 00:00", ObligationState.Missing)]
    public void Weekly_data_is_at_risk_for_the_last_two_of_its_three_days(string now, ObligationState state) =>
        Assert.Equal(state, Of(Vn.History("2026-01-01", UpdateCycle.Weekly), "2026-W09", now).State);

    [Fact]
    public void The_at_risk_window_of_a_cycle_leaves_the_first_day_after_the_period_open()
    {
        var options = new FreshnessOptions();
        Assert.Equal((-1, 1, 5, 5, 5, 5), (options.AtRiskDaysOf(UpdateCycle.Daily), options.AtRiskDaysOf(UpdateCycle.Weekly), options.AtRiskDaysOf(UpdateCycle.Monthly),
            options.AtRiskDaysOf(UpdateCycle.Quarterly), options.AtRiskDaysOf(UpdateCycle.HalfYearly), options.AtRiskDaysOf(UpdateCycle.Yearly)));
        var longer = new FreshnessOptions { DailyDeadlineDays = 3, WeeklyDeadlineDays = 10 };
        Assert.Equal((1, 5), (longer.AtRiskDaysOf(UpdateCycle.Daily), longer.AtRiskDaysOf(UpdateCycle.Weekly)));
    }

    [Fact]
    public void A_waiver_names_its_reason_and_who_gave_it_and_wins_over_missing()
    {
        var history = Vn.History("2025-12-01", waivers: [new Waiver("2026-M01", "Không phát sinh dữ liệu", "nguyen.van.a", Vn.At("2026-02-20 10:00"))]);

        Assert.Equal(ObligationState.Missing, Of(history, "2026-M01", "2026-02-19 10:00").State);
        var o = Of(history, "2026-M01", "2026-02-21 10:00");
        Assert.Equal((ObligationState.Waived, "Không phát sinh dữ liệu", "nguyen.van.a"), (o.State, o.WaiverReason, o.WaivedBy));
        Assert.Equal(ObligationState.Missing, Of(history, "2026-M02", "2026-03-21 10:00").State);
    }

    [Fact]
    public void A_run_that_found_nothing_new_is_a_check_not_an_update()
    {
        var history = Vn.History("2025-12-01", published: [Vn.Published(1, "2025-12-20 02:00")], runs: [Vn.At("2026-02-05 02:00"), Vn.At("2026-02-06 02:00")]);

        var o = Of(history, "2026-M01", "2026-02-20 00:00");

        Assert.Equal((ObligationState.Missing, (DateTimeOffset?)Vn.At("2026-02-06 02:00")), (o.State, o.LastCheckedAt));
    }

    [Fact]
    public void The_agencys_no_change_confirmation_fulfils_the_obligation_when_given()
    {
        var history = Vn.History(
            "2025-12-01",
            confirmations: [new NoChangeConfirmation("2026-M01", "Số liệu không thay đổi", "skhdt", Vn.At("2026-02-17 09:00"))]);

        var o = Of(history, "2026-M01", "2026-03-01 00:00");

        Assert.Equal((ObligationState.Late, 2, true, (long?)null), (o.State, o.DaysLate, o.ConfirmedNoChange, o.FulfilledByVersion));
    }

    [Fact]
    public void With_a_period_field_only_a_version_covering_the_period_fulfils_it()
    {
        var history = Vn.History(
            "2025-12-01",
            published: [Vn.Published(1, "2026-02-03 10:00", "2025-M12"), Vn.Published(2, "2026-02-18 10:00", "2025-M12", "2026-M01")]);

        var o = Of(history, "2026-M01", "2026-03-01 00:00");

        Assert.Equal((ObligationState.Late, 3, 2L), (o.State, o.DaysLate, o.FulfilledByVersion));
    }

    [Theory]
    [InlineData("2026-03")] // an ISO month
    [InlineData("03/2026")] // a month written the Vietnamese way
    [InlineData("2026-02-15")] // a date column
    [InlineData("15/02/2026")]
    [InlineData("2026-M01")]
    public void A_period_field_value_covers_the_period_that_holds_it(string value)
    {
        var history = Vn.History(
            "2025-12-01",
            UpdateCycle.Quarterly,
            published:
            [
                new PublicationFact(1, Vn.At("2026-04-03 10:00"), ReportingPeriod.CoveredBy(["2026", "2025-Q4"])), // a year is no quarter
                new PublicationFact(2, Vn.At("2026-04-20 10:00"), ReportingPeriod.CoveredBy([value])),
            ]);

        var o = Of(history, "2026-Q1", "2026-05-01 00:00");

        Assert.Equal((ObligationState.OnTime, 2L), (o.State, o.FulfilledByVersion));
    }

    [Theory]
    [InlineData("2026-01-10 08:00", "2026-M02")] // mid-period: the first full period
    [InlineData("2026-02-01 00:00", "2026-M02")] // on the first day: that period is full
    [InlineData("2026-01-31 23:30", "2026-M02")]
    public void A_dataset_registered_mid_period_owes_from_its_first_full_period(string registered, string first)
    {
        var obligations = Rules.Evaluate(Vn.History(registered), Vn.At("2026-03-20 00:00"));
        Assert.Equal(first, obligations[0].Period);
        Assert.Equal(["2026-M02", "2026-M03"], obligations.Select(o => o.Period));
        Assert.Equal(ObligationState.NotDue, obligations[^1].State);
    }

    [Fact]
    public void A_dataset_registered_at_00_30_Vietnam_time_on_the_first_day_is_registered_that_day_though_it_is_the_day_before_in_UTC()
    {
        var registered = new DateTimeOffset(2026, 1, 31, 17, 30, 0, TimeSpan.Zero); // 2026-02-01 00:30 +07:00
        var history = Vn.History("2026-02-01 00:30") with { RegisteredAt = registered };
        Assert.Equal("2026-M02", Rules.Evaluate(history, Vn.At("2026-03-20 00:00"))[0].Period);
    }

    [Fact]
    public void A_cycle_changed_mid_year_keeps_the_old_cycle_until_the_new_ones_first_full_period()
    {
        var history = Vn.History("2025-12-20", laterCycles: [new CycleChange(UpdateCycle.Quarterly, Vn.At("2026-05-10 09:00"))]);

        var obligations = Rules.Evaluate(history, Vn.At("2026-11-28 12:00"));

        Assert.Equal(
            ["2026-M01", "2026-M02", "2026-M03", "2026-M04", "2026-M05", "2026-M06", "2026-Q3", "2026-Q4"],
            obligations.Select(o => o.Period));
        Assert.Equal((Vn.Day("2026-10-30"), ObligationState.Missing, 29), (obligations[6].DeadlineDay, obligations[6].State, obligations[6].DaysLate));
        Assert.Equal(ObligationState.NotDue, obligations[7].State);
    }

    [Fact]
    public void A_change_to_a_shorter_cycle_starts_after_the_old_cycles_period_in_progress_ends()
    {
        var quarterly = Vn.History("2025-12-20", UpdateCycle.Quarterly, laterCycles: [new CycleChange(UpdateCycle.Monthly, Vn.At("2026-05-10 09:00"))]);
        Assert.Equal(["2026-Q1", "2026-Q2", "2026-M07", "2026-M08"], Rules.Evaluate(quarterly, Vn.At("2026-08-28 12:00")).Select(o => o.Period)); // June once, in Q2

        var yearly = Vn.History("2025-01-01", UpdateCycle.Yearly, laterCycles: [new CycleChange(UpdateCycle.Monthly, Vn.At("2026-05-10 09:00"))]);
        Assert.Equal(["2025", "2026", "2027-M01", "2027-M02"], Rules.Evaluate(yearly, Vn.At("2027-02-10 12:00")).Select(o => o.Period));

        var monthly = Vn.History("2025-12-20", laterCycles: [new CycleChange(UpdateCycle.Daily, Vn.At("2026-05-10 09:00"))]);
        Assert.Equal(["2026-M04", "2026-M05", "2026-06-01", "2026-06-02"], Rules.Evaluate(monthly, Vn.At("2026-06-02 12:00")).Select(o => o.Period).TakeLast(4));
    }

    [Fact]
    public void Two_cycle_changes_within_one_period_owe_each_period_once()
    {
        var history = Vn.History("2025-12-20", laterCycles:
        [
            new CycleChange(UpdateCycle.Quarterly, Vn.At("2026-05-10 09:00")),
            new CycleChange(UpdateCycle.Monthly, Vn.At("2026-05-20 09:00")), // before the quarterly cycle's first period (Q3) began
        ]);

        Assert.Equal(
            ["2026-M01", "2026-M02", "2026-M03", "2026-M04", "2026-M05", "2026-M06", "2026-M07", "2026-M08"],
            Rules.Evaluate(history, Vn.At("2026-08-28 12:00")).Select(o => o.Period));
    }

    [Theory]
    [InlineData(UpdateCycle.Daily, UpdateCycle.Yearly)]
    [InlineData(UpdateCycle.Monthly, UpdateCycle.HalfYearly)]
    [InlineData(UpdateCycle.HalfYearly, UpdateCycle.Quarterly)]
    [InlineData(UpdateCycle.Yearly, UpdateCycle.Daily)]
    [InlineData(UpdateCycle.Quarterly, UpdateCycle.Yearly)]
    [InlineData(UpdateCycle.Weekly, UpdateCycle.Monthly)] // weeks do not line up with months: never twice, a gap of at most 6 days
    [InlineData(UpdateCycle.Monthly, UpdateCycle.Weekly)]
    public void Consecutive_cycles_owe_no_day_twice_and_leave_no_gap_when_their_periods_line_up(UpdateCycle first, UpdateCycle then)
    {
        var history = Vn.History("2025-01-01", first, laterCycles:
        [
            new CycleChange(then, Vn.At("2025-08-13 09:00")),
            new CycleChange(first, Vn.At("2026-06-10 09:00")),
            new CycleChange(then, Vn.At("2026-06-17 09:00")),
        ]);

        var periods = Rules.Evaluate(history, Vn.At("2028-01-10 00:00"));

        Assert.Equal(periods.Select(o => o.Period).Distinct().Count(), periods.Count);
        Assert.Equal(first, FreshnessNames.TryParseCycle(periods[0].Cycle, out var c0) ? c0 : UpdateCycle.Irregular);
        Assert.Equal(then, FreshnessNames.TryParseCycle(periods[^1].Cycle, out var c1) ? c1 : UpdateCycle.Irregular);
        var weekly = first == UpdateCycle.Weekly || then == UpdateCycle.Weekly;
        for (var i = 1; i < periods.Count; i++)
        {
            var gap = periods[i].PeriodStart.DayNumber - periods[i - 1].PeriodEnd.DayNumber - 1;
            Assert.InRange(gap, 0, weekly ? 6 : 0);
        }
    }

    [Fact]
    public void An_irregular_dataset_owes_nothing_and_a_change_to_irregular_ends_its_obligations()
    {
        Assert.Empty(Rules.Evaluate(Vn.History("2025-01-01", UpdateCycle.Irregular), Vn.At("2026-11-28 00:00")));
        var history = Vn.History("2025-12-01", laterCycles: [new CycleChange(UpdateCycle.Irregular, Vn.At("2026-03-15 00:00"))]);
        Assert.Equal(["2025-M12", "2026-M01", "2026-M02", "2026-M03"], Rules.Evaluate(history, Vn.At("2026-11-28 00:00")).Select(o => o.Period));
    }

    [Fact]
    public void Facts_after_now_are_ignored_so_an_evaluation_at_a_past_cut_off_is_reproducible()
    {
        var history = Vn.History("2025-12-01", published: [Vn.Published(1, "2026-02-10 10:00")]);
        Assert.Equal(ObligationState.AtRisk, Of(history, "2026-M01", "2026-02-10 09:00").State);
        Assert.Equal(ObligationState.OnTime, Of(history, "2026-M01", "2026-02-10 10:00").State);
    }
}
