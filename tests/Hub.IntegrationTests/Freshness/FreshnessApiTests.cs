using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hub.Core.Freshness;
using Hub.Worker.Access;
using Hub.Worker.Cli;
using Hub.Worker.Freshness;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.IntegrationTests.Freshness;

[Collection(HubTestGroup.Name)]
public sealed class FreshnessApiTests(HubFixture hub)
{
    private const string CutOff = "asOf=2026-10-01T00:00:00%2B07:00&generatedAt=2026-10-02T08:30:00%2B07:00";

    private static readonly SemaphoreSlim SeedOnce = new(1, 1);
    private static bool seeded;

    /// <summary>
    /// Q3 2026 of two agencies. Obligations whose deadline day falls in Q3's report window (25 June to 24 September):
    /// monthly M06 (Jul 15), M07 (Aug 15), M08 (Sep 15); quarterly Q2 (Jul 30).
    /// </summary>
    private async Task SeedQuarterAsync()
    {
        await SeedOnce.WaitAsync();
        try
        {
            if (seeded)
            {
                return;
            }

            var seed = new FreshnessSeed(hub.ConnectionString);
            await seed.DatasetAsync("fq-a-thang", "FQA", "monthly", "2026-01-01 00:00");
            await seed.RunAsync("fq-a-thang", "2026-07-10 08:00", valid: 100, quarantined: 5, version: 1, inserted: 100); // M06 on time
            await seed.RunAsync("fq-a-thang", "2026-08-20 08:00", valid: 130, quarantined: 0, version: 2, inserted: 10, updated: 20); // M07 late 5
            await seed.RunAsync("fq-a-thang", "2026-09-20 02:00", valid: 130, quarantined: 0); // nothing new: a check; M08 missing
            await seed.DatasetAsync("fq-a-quy", "FQA", "quarterly", "2026-01-01 00:00");
            await seed.RunAsync("fq-a-quy", "2026-08-09 15:00", valid: 50, quarantined: 15, version: 1, inserted: 50); // Q2 late 10
            await seed.RunAsync("fq-a-quy", "2026-10-05 15:00", valid: 50, quarantined: 50, version: 2, updated: 50); // after the cut-off
            await seed.DatasetAsync("fq-b-thang", "FQB", "monthly", "2026-01-01 00:00");
            await seed.RunAsync("fq-b-thang", "2026-08-01 00:00", valid: 300, quarantined: 0, version: 1, inserted: 300); // M07 on time
            await seed.ExecuteAsync(
                """
                insert into hub.freshness_waivers values ('fq-b-thang', '2026-M06', 'Hệ thống nguồn bảo trì', 'ict.admin', '2026-07-20T03:00:00Z');
                insert into hub.freshness_confirmations values ('fq-b-thang', '2026-M08', 'Không thay đổi', 'fqb.user', '2026-09-10T03:00:00Z');
                """);
            seeded = true;
        }
        finally
        {
            SeedOnce.Release();
        }
    }

    [Fact]
    public async Task Freshness_lists_each_obligation_with_its_state_deadline_and_fulfilling_version()
    {
        await SeedQuarterAsync();

        var obligations = await hub.Api.GetFromJsonAsync<List<Obligation>>($"/api/freshness?agency=FQA&dataset=fq-a-thang&{CutOff}");

        Assert.Equal(
            ["2026-M01 late 145 1", "2026-M02 late 117 1", "2026-M03 late 86 1", "2026-M04 late 56 1", "2026-M05 late 25 1",
             "2026-M06 on_time 0 1", "2026-M07 late 5 2", "2026-M08 missing 16 ", "2026-M09 open  ", "2026-M10 not_due  "],
            obligations!.Select(o => $"{o.Period} {FreshnessNames.Of(o.State)} {o.DaysLate} {o.FulfilledByVersion}"));
        var m08 = obligations!.Single(o => o.Period == "2026-M08");
        Assert.Equal(FreshnessSeed.Vn("2026-09-15 23:59").AddSeconds(59), m08.Deadline);
        Assert.Equal(FreshnessSeed.Vn("2026-09-20 02:00"), m08.LastCheckedAt);

        var missing = await hub.Api.GetFromJsonAsync<List<Obligation>>($"/api/freshness?agency=FQA&state=missing&{CutOff}");
        Assert.Equal(["fq-a-thang 2026-M08"], missing!.Select(o => $"{o.DatasetId} {o.Period}"));
        var q2 = await hub.Api.GetFromJsonAsync<List<Obligation>>($"/api/freshness?period=2026-Q2&agency=FQA&{CutOff}");
        Assert.Equal(("late", 10, 1L), (FreshnessNames.Of(q2!.Single().State), q2![0].DaysLate!.Value, q2[0].FulfilledByVersion!.Value));

        var bad = await hub.Api.GetAsync("/api/freshness?state=sleeping");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task The_quarterly_report_is_computed_from_the_seeded_history_figure_by_figure()
    {
        await SeedQuarterAsync();

        var report = await hub.Api.GetFromJsonAsync<ComplianceReport>($"/api/reports/quarterly/2026/Q3?format=json&{CutOff}");

        Assert.Equal((new DateOnly(2026, 6, 25), new DateOnly(2026, 9, 24)), (report!.From, report.To));
        Assert.Equal(FreshnessSeed.Vn("2026-10-01 00:00"), report.CutOff);
        var a = report.Agencies.Single(x => x.AgencyCode == "FQA");
        Assert.Equal((2, 4, 1, 2, 1, 0, 0), (a.Datasets, a.Due, a.OnTime, a.Late, a.Missing, a.Waived, a.Pending));
        // published: 100 + (10 + 20) + 50; checked 105 + 130 + 130 + 65 = 430 of which 20 quarantined; the run of Oct 5 is after the cut-off.
        Assert.Equal((0.25m, 7.5m, 180L, 0.0465m), (a.ComplianceRate, a.MedianDaysLate, a.RecordsPublished, a.QuarantineRate));
        var b = report.Agencies.Single(x => x.AgencyCode == "FQB");
        Assert.Equal((1, 3, 2, 0, 0, 1, 0), (b.Datasets, b.Due, b.OnTime, b.Late, b.Missing, b.Waived, b.Pending));
        Assert.Equal((1m, (decimal?)null, 300L, 0m), (b.ComplianceRate, b.MedianDaysLate, b.RecordsPublished, b.QuarantineRate));

        var compliance = await hub.Api.GetFromJsonAsync<ComplianceReport>($"/api/agencies/FQA/compliance?from=2026-07-01&to=2026-09-30&{CutOff}");
        Assert.Equal(a, compliance!.Agencies.Single());
        var current = await hub.Api.GetFromJsonAsync<ComplianceReport>("/api/agencies/FQA/compliance?asOf=2026-09-25T00:00:00%2B07:00");
        Assert.Equal((new DateOnly(2026, 9, 25), new DateOnly(2026, 12, 24)), (current!.From, current.To)); // Q4's window has begun
        Assert.Equal(HttpStatusCode.NotFound, (await hub.Api.GetAsync("/api/agencies/NOPE/compliance")).StatusCode);
    }

    [Fact]
    public async Task The_report_is_byte_identical_for_the_same_cut_off_in_every_format_and_the_cli_writes_the_same_bytes()
    {
        await SeedQuarterAsync();

        foreach (var format in new[] { "json", "csv", "html" })
        {
            var first = await hub.Api.GetByteArrayAsync($"/api/reports/quarterly/2026/3?format={format}&{CutOff}");
            var second = await hub.Api.GetByteArrayAsync($"/api/reports/quarterly/2026/Q3?format={format}&{CutOff}");
            Assert.Equal(first, second);
        }

        var csv = await hub.Api.GetAsync($"/api/reports/quarterly/2026/Q3?format=csv&{CutOff}");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        var bytes = await csv.Content.ReadAsByteArrayAsync();
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes.Take(3));
        var lines = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3).Split("\r\n");
        Assert.Contains("FQA,Sở FQA,2,4,1,2,1,0,0,0.25,7.5,180,0.0465", lines);
        Assert.Contains("FQB,Sở FQB,1,3,2,0,0,1,0,1,,300,0", lines);

        var html = await hub.Api.GetStringAsync($"/api/reports/quarterly/2026/Q3?format=html&{CutOff}");
        Assert.Contains("quý III năm 2026", html, StringComparison.Ordinal);
        Assert.Contains("Số liệu chốt đến: 00:00:00 01/10/2026 (+07:00)", html, StringComparison.Ordinal);
        var english = await hub.Api.GetStringAsync($"/api/reports/quarterly/2026/Q3?format=html&lang=en&{CutOff}");
        Assert.Contains("Q3 2026", english, StringComparison.Ordinal);

        using var output = new MemoryStream();
        using var error = new StringWriter();
        var rc = await ReportCommand.RunAsync(
            ["quarterly", "2026", "Q3", "--format", "csv", "--as-of", "2026-10-01T00:00:00+07:00", "--generated-at", "2026-10-02T08:30:00+07:00"],
            hub.Worker.Services.GetRequiredService<FreshnessStore>(), TimeProvider.System, output, error, CancellationToken.None);
        Assert.Equal((0, string.Empty), (rc, error.ToString()));
        Assert.Equal(bytes, output.ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await hub.Api.GetAsync("/api/reports/quarterly/2026/Q5")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await hub.Api.GetAsync("/api/reports/quarterly/2026/Q3?format=pdf")).StatusCode);
    }

    [Fact]
    public async Task A_period_field_marked_x_period_decides_which_version_fulfils_a_period()
    {
        var seed = new FreshnessSeed(hub.ConnectionString);
        await seed.DatasetAsync("fq-ky", "FQK", "monthly", "2025-11-15 10:00",
            """{"type":"object","properties":{"ma":{"type":"string"},"ky_bao_cao":{"type":"string","x-period":true}}}""");
        var v1 = await seed.RunAsync("fq-ky", "2026-02-03 10:00", valid: 1, quarantined: 0, version: 1, inserted: 1);
        var v2 = await seed.RunAsync("fq-ky", "2026-02-18 10:00", valid: 2, quarantined: 0, version: 2, inserted: 1);
        await seed.ExecuteAsync(
            """
            create table open_data.fq_ky (ma text, ky_bao_cao text, _key text not null, _hash text not null, _version_from bigint not null,
                _version_to bigint, _run_id uuid not null, _batch int not null);
            insert into open_data.fq_ky values ('a', '2025-M12', 'a', 'h1', 1, null, @v1, 0), ('b', '2026-M01', 'b', 'h2', 2, null, @v2, 0);
            """, new { v1, v2 });

        var obligations = await hub.Api.GetFromJsonAsync<List<Obligation>>("/api/freshness?dataset=fq-ky&asOf=2026-03-01T00:00:00%2B07:00");

        Assert.Equal(["2025-M12 late 19 1", "2026-M01 late 3 2", "2026-M02 open  ", "2026-M03 not_due  "],
            obligations!.Select(o => $"{o.Period} {FreshnessNames.Of(o.State)} {o.DaysLate} {o.FulfilledByVersion}"));
    }

    [Fact]
    public async Task A_period_field_value_is_read_as_the_days_it_names_and_only_records_a_version_published_cover_it()
    {
        var seed = new FreshnessSeed(hub.ConnectionString);
        await seed.DatasetAsync("fq-quy-thang", "FQT", "quarterly", "2025-12-15 10:00",
            """{"type":"object","properties":{"ma":{"type":"string"},"thang":{"type":"string","x-period":true}}}""");
        var v1 = await seed.RunAsync("fq-quy-thang", "2026-03-20 10:00", valid: 1, quarantined: 0, version: 1, inserted: 1); // before Q1 ended
        var v2 = await seed.RunAsync("fq-quy-thang", "2026-04-05 10:00", valid: 2, quarantined: 0, version: 2, inserted: 1); // April only
        var v3 = await seed.RunAsync("fq-quy-thang", "2026-04-10 10:00", valid: 2, quarantined: 0, version: 3, updated: 1); // March again
        await seed.ExecuteAsync(
            """
            create table open_data.fq_quy_thang (ma text, thang text, _key text not null, _hash text not null, _version_from bigint not null,
                _version_to bigint, _run_id uuid not null, _batch int not null);
            insert into open_data.fq_quy_thang values
                ('a', '2026-03', 'a', 'h1', 1, 3, @v1, 0), ('b', '2026-04', 'b', 'h2', 2, null, @v2, 0), ('a', '03/2026', 'a', 'h3', 3, null, @v3, 0);
            """, new { v1, v2, v3 });

        var obligations = await hub.Api.GetFromJsonAsync<List<Obligation>>("/api/freshness?dataset=fq-quy-thang&asOf=2026-05-01T00:00:00%2B07:00");

        // Version 2 still holds March's record from version 1 but did not publish it: version 3, which did, fulfils Q1.
        Assert.Equal(["2026-Q1 on_time 0 3", "2026-Q2 not_due  "],
            obligations!.Select(o => $"{o.Period} {FreshnessNames.Of(o.State)} {o.DaysLate} {o.FulfilledByVersion}"));
    }

    [Fact]
    public async Task Waivers_and_no_change_confirmations_are_recorded_once_and_change_the_state()
    {
        var seed = new FreshnessSeed(hub.ConnectionString);
        await seed.DatasetAsync("fq-w", "FQW", "monthly", "2025-11-15 10:00");
        var agency = hub.ApiWithKey((await hub.IssueKeyAsync("FQW", KeyRoles.Agency)).Key);

        var waived = await hub.OperatorApi.PostAsJsonAsync("/api/freshness/waivers", new { dataset = "fq-w", period = "2026-M01", reason = "Không phát sinh", by = "ict.admin" });
        Assert.Equal(HttpStatusCode.Created, waived.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await hub.OperatorApi.PostAsJsonAsync("/api/freshness/waivers", new { dataset = "fq-w", period = "2026-M01", reason = "again", by = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.OperatorApi.PostAsJsonAsync("/api/freshness/waivers", new { dataset = "fq-none", period = "2026-M01", reason = "r", by = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await hub.OperatorApi.PostAsJsonAsync("/api/freshness/waivers", new { dataset = "fq-w", period = "2026-M13", reason = "r", by = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await hub.OperatorApi.PostAsJsonAsync("/api/freshness/waivers", new { dataset = "fq-w", period = "2025-M10", reason = "before registration", by = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await agency.PostAsJsonAsync("/api/freshness/confirmations", new { dataset = "fq-w", period = "2099-M01", reason = "r" })).StatusCode);
        var confirmed = await agency.PostAsJsonAsync("/api/freshness/confirmations", new { dataset = "fq-w", period = "2026-M02", reason = "Số liệu không đổi" });
        Assert.Equal(HttpStatusCode.Created, confirmed.StatusCode);

        var obligations = await hub.Api.GetFromJsonAsync<List<Obligation>>("/api/freshness?dataset=fq-w");
        var m01 = obligations!.Single(o => o.Period == "2026-M01");
        Assert.Equal((ObligationState.Waived, "Không phát sinh", $"it-operator (key {hub.OperatorKey.KeyId})"), (m01.State, m01.WaiverReason, m01.WaivedBy)); // not the body's "by"
        var m02 = obligations!.Single(o => o.Period == "2026-M02");
        Assert.Equal((ObligationState.Late, true), (m02.State, m02.ConfirmedNoChange)); // confirmed today, long after Mar 15
        Assert.Equal(ObligationState.Missing, obligations!.Single(o => o.Period == "2025-M12").State);

        // Who gave a statement comes from the key: the request type does not advertise a "by".
        using var openApi = JsonDocument.Parse(await hub.Api.GetStringAsync("/openapi/v1.json"));
        var request = openApi.RootElement.GetProperty("components").GetProperty("schemas").GetProperty(nameof(Hub.Api.Freshness.FreshnessStatement)).GetProperty("properties");
        Assert.Equal(["dataset", "period", "reason"], request.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task The_connector_view_says_when_it_last_succeeded_and_whether_it_is_behind_its_schedule()
    {
        await SeedQuarterAsync();

        var connectors = await hub.Api.GetFromJsonAsync<List<ConnectorFreshness>>("/api/freshness/connectors?asOf=2026-09-21T03:00:00%2B07:00");

        var a = connectors!.Single(c => c.DatasetId == "fq-a-thang");
        // Daily at 02:00; the last success (Sep 20 02:00, a check) was followed by a due run on Sep 21 02:00, one hour ago: within the grace.
        Assert.Equal((FreshnessSeed.Vn("2026-09-20 02:00"), FreshnessSeed.Vn("2026-09-21 02:00"), false), (a.LastSucceededAt!.Value, a.DueSince!.Value, a.BehindSchedule));
        connectors = await hub.Api.GetFromJsonAsync<List<ConnectorFreshness>>("/api/freshness/connectors?asOf=2026-09-21T03:00:01%2B07:00");
        Assert.True(connectors!.Single(c => c.DatasetId == "fq-a-thang").BehindSchedule);
    }
}
