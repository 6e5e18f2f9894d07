using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Api.Datasets;
using Hub.Api.Runs;
using Hub.Core.Messages;
using Hub.Worker.Catalog;
using Hub.Worker.Store;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class PipelineTests(HubFixture hub)
{
    private static List<object> Wards(int count, Func<int, Dictionary<string, object?>>? make = null) =>
        Enumerable.Range(1, count).Select(i => (object)(make ?? (n => TestAgency.Ward(n)))(i)).ToList();

    private async Task<List<JsonElement>> ReadAllAsync(string dataset, long? version = null, int limit = 40)
    {
        var records = new List<JsonElement>();
        string? after = null;
        do
        {
            var url = $"/api/datasets/{dataset}/records?limit={limit}"
                      + (after is null ? string.Empty : $"&after={Uri.EscapeDataString(after)}")
                      + (version is null ? string.Empty : $"&version={version}");
            var page = await hub.Api.GetFromJsonAsync<RecordPage>(url);
            records.AddRange(page!.Records);
            after = page.Next;
        }
        while (after is not null);

        return records;
    }

    [Fact]
    public async Task A_dataset_goes_from_the_agency_api_to_rows_readable_through_the_api()
    {
        TestAgency.Serve(hub.Agency, "it-wards", Wards(120));

        var run = await hub.SyncAsync("it-wards");

        Assert.Equal("succeeded", run.Status);
        Assert.Equal((120L, 120L, 0L, 120L, 0L, 0L, 1L), (run.Fetched!.Value, run.Valid, run.Quarantined, run.Inserted, run.Updated, run.Unchanged, run.Version!.Value));
        var dataset = await hub.Api.GetFromJsonAsync<DatasetSummary>("/api/datasets/it-wards");
        Assert.Equal((1L, 120L, "TEST", "monthly"), (dataset!.CurrentVersion, dataset.RowCount, dataset.AgencyCode, dataset.UpdateCycle));
        Assert.Equal(run.Id, dataset.LastRun!.Id);

        var records = await ReadAllAsync("it-wards");
        Assert.Equal(120, records.Count);
        Assert.Equal(Enumerable.Range(1, 120).Select(i => (22000 + i).ToString("00000", System.Globalization.CultureInfo.InvariantCulture)),
            records.Select(r => r.GetProperty("ma_xa").GetString()));
        var first = records[0];
        var expected = TestAgency.Ward(1);
        Assert.Equal(expected["ten_xa"], first.GetProperty("ten_xa").GetString());
        Assert.Equal(JsonValueKind.Number, first.GetProperty("dan_so").ValueKind);
        Assert.Equal(expected["dan_so"], first.GetProperty("dan_so").GetInt32());
        Assert.Equal(expected["ngay_thanh_lap"], first.GetProperty("ngay_thanh_lap").GetString());
        Assert.Equal(DateTimeOffset.Parse("2025-03-01T08:00:00+07:00", System.Globalization.CultureInfo.InvariantCulture), first.GetProperty("cap_nhat").GetDateTimeOffset());
        Assert.False(first.TryGetProperty("_hash", out _));

        var detail = await hub.OperatorApi.GetFromJsonAsync<RunDetail>($"/api/runs/{run.Id}");
        Assert.Equal(3, detail!.Requests.Count);
        Assert.All(detail.Requests, r => Assert.Equal((200, 64), (r.StatusCode, r.PayloadSha256.Length)));
        Assert.Contains("offset=100", detail.Requests[2].Url, StringComparison.Ordinal);
        Assert.Equal(64, detail.ConfigRevision.Length);
    }

    [Fact]
    public async Task Every_kind_of_value_reaches_its_typed_column_as_the_agency_sent_it()
    {
        // Staged as typed rows with COPY: text that looks like COPY's own escapes must arrive as it was sent.
        var sent = new List<object>
        {
            new Dictionary<string, object?>
            {
                ["ma"] = "A1", ["ghi_chu"] = "tab\there\nnew line \\ back\r\n \"quoted\" – Phước", ["so"] = 12345678901234.5678m, ["dem"] = 42, ["co"] = true,
                ["ngay"] = "2024-02-29", ["luc"] = "2025-03-01T08:00:00+07:00",
                ["chi_tiet"] = new Dictionary<string, object?> { ["b"] = new object[] { 1, 2.5, new Dictionary<string, object?> { ["c"] = "x\ty" } }, ["a"] = null },
                ["nhan"] = new object[] { "x", "y\\z", 3 },
            },
            new Dictionary<string, object?> { ["ma"] = "A2", ["ghi_chu"] = null, ["so"] = -0.5m, ["dem"] = 0, ["co"] = false },
            new Dictionary<string, object?> { ["ma"] = "A\t3\\N", ["ghi_chu"] = "\\N", ["chi_tiet"] = new Dictionary<string, object?>(), ["nhan"] = Array.Empty<object>() },
        };
        // A first batch of seven records, staged in binary; then a second one whose second record has a date-time with a
        // space for its 'T', valid, which the worker does not write in binary: that batch is staged again in text, where
        // PostgreSQL reads it.
        sent.AddRange(Enumerable.Range(1, 5).Select(i => new Dictionary<string, object?> { ["ma"] = $"B{i}", ["dem"] = i }));
        sent.Add(new Dictionary<string, object?> { ["ma"] = "A4", ["luc"] = "2025-03-01 08:00:00.123456+07:00", ["ngay"] = "1999-12-31", ["so"] = 1.5e300 });
        // A date-time without an offset is Vietnam time, as a mapping's date_time conversion reads it.
        sent.Add(new Dictionary<string, object?> { ["ma"] = "A5", ["luc"] = "2025-03-01T08:00:00" });
        TestAgency.Serve(hub.Agency, "it-typed", sent);

        var run = await hub.SyncAsync("it-typed");

        Assert.Equal(("succeeded", 10L), (run.Status, run.Inserted));
        var read = (await ReadAllAsync("it-typed")).ToDictionary(r => r.GetProperty("ma").GetString()!);
        foreach (var record in sent.Cast<Dictionary<string, object?>>())
        {
            var row = read[(string)record["ma"]!];
            foreach (var name in new[] { "ghi_chu", "so", "dem", "co", "ngay", "chi_tiet", "nhan" })
            {
                var expected = JsonSerializer.SerializeToElement(record.GetValueOrDefault(name));
                var actual = row.TryGetProperty(name, out var value) ? value : JsonSerializer.SerializeToElement<object?>(null);
                Assert.True(JsonElement.DeepEquals(expected, actual), $"{record["ma"]}.{name}: sent {expected.GetRawText()}, read {actual.GetRawText()}");
            }

            Assert.Equal(
                record.GetValueOrDefault("luc") is string luc
                    ? DateTimeOffset.Parse(luc.Length == 19 ? luc + "+07:00" : luc, System.Globalization.CultureInfo.InvariantCulture)
                    : (DateTimeOffset?)null,
                row.GetProperty("luc").ValueKind == JsonValueKind.Null ? null : row.GetProperty("luc").GetDateTimeOffset());
        }
    }

    [Fact]
    public async Task Running_the_same_data_twice_adds_no_row_and_reports_every_record_unchanged()
    {
        TestAgency.Serve(hub.Agency, "it-versions", Wards(60));
        var first = await hub.SyncAsync("it-versions");
        Assert.Equal((60L, 1L), (first.Inserted, first.Version!.Value));

        var second = await hub.SyncAsync("it-versions");

        Assert.Equal("succeeded", second.Status);
        Assert.Equal((60L, 0L, 0L, 0L, 60L), (second.Valid, second.Inserted, second.Updated, second.Deleted, second.Unchanged));
        Assert.Null(second.Version);
        Assert.Equal(60L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_versions"));
        Assert.Equal(1L, (await hub.Api.GetFromJsonAsync<DatasetSummary>("/api/datasets/it-versions"))!.CurrentVersion);

        // The agency then changes one record, drops one and adds one: version 2 holds exactly that.
        var changed = Wards(60).Where((_, i) => i != 4).ToList();
        changed[0] = TestAgency.Ward(1, " (đã đổi tên)");
        changed.Add(TestAgency.Ward(61));
        TestAgency.Serve(hub.Agency, "it-versions", changed);

        var third = await hub.SyncAsync("it-versions");

        Assert.Equal((1L, 1L, 1L, 58L, 2L), (third.Inserted, third.Updated, third.Deleted, third.Unchanged, third.Version!.Value));
        var current = await ReadAllAsync("it-versions");
        Assert.Equal(60, current.Count);
        Assert.Contains(current, r => r.GetProperty("ten_xa").GetString()!.EndsWith("(đã đổi tên)", StringComparison.Ordinal));
        Assert.DoesNotContain(current, r => r.GetProperty("ma_xa").GetString() == "22005");

        var previous = await ReadAllAsync("it-versions", version: 1);
        Assert.Equal(60, previous.Count);
        Assert.Contains(previous, r => r.GetProperty("ma_xa").GetString() == "22005");
        Assert.DoesNotContain(previous, r => r.GetProperty("ma_xa").GetString() == "22061");
    }

    [Fact]
    public async Task Invalid_records_are_quarantined_with_their_reasons_and_counted()
    {
        var records = Wards(10);
        records[2] = new { ma_xa = "123", ten_xa = "Mã sai", dan_so = 5 };
        records[7] = new { ma_xa = "22008", ten_xa = "Dân số sai", dan_so = "nhiều" };
        TestAgency.Serve(hub.Agency, "it-quarantine", records);

        var run = await hub.SyncAsync("it-quarantine");

        Assert.Equal("succeeded", run.Status);
        Assert.Equal((10L, 8L, 2L, 8L), (run.Fetched!.Value, run.Valid, run.Quarantined, run.Inserted));
        Assert.Equal(run.Fetched, run.Valid + run.Quarantined);
        var detail = await hub.OperatorApi.GetFromJsonAsync<RunDetail>($"/api/runs/{run.Id}");
        Assert.Equal(2, detail!.Quarantined.Count);
        var badCode = detail.Quarantined.Single(q => q.Key == "123");
        Assert.Contains("PatternMismatch", badCode.Errors.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"Mã sai\"", badCode.Payload, StringComparison.Ordinal);
        var badNumber = detail.Quarantined.Single(q => q.Key == "22008");
        Assert.Contains("IntegerExpected", badNumber.Errors.ToString(), StringComparison.Ordinal);
        var published = await ReadAllAsync("it-quarantine");
        Assert.Equal(8, published.Count);
        Assert.DoesNotContain(published, r => r.GetProperty("ma_xa").GetString() is "123" or "22008");

        // A later run where a published record turns bad keeps its good version published.
        records[0] = new { ma_xa = "22001", ten_xa = string.Empty, dan_so = -1 };
        TestAgency.Serve(hub.Agency, "it-quarantine", records);
        var rerun = await hub.SyncAsync("it-quarantine");
        Assert.Equal((3L, 0L, 0L), (rerun.Quarantined, rerun.Deleted, rerun.Updated));
        Assert.Contains(await ReadAllAsync("it-quarantine"), r => r.GetProperty("ma_xa").GetString() == "22001" && r.GetProperty("ten_xa").GetString()!.Length > 0);
    }

    [Fact]
    public async Task A_failed_run_is_recorded_with_its_cause_and_the_published_version_stays()
    {
        TestAgency.Serve(hub.Agency, "it-failing", Wards(30));
        var good = await hub.SyncAsync("it-failing");
        Assert.Equal(1L, good.Version);

        TestAgency.Fail(hub.Agency, "it-failing", 503);
        var failed = await hub.SyncAsync("it-failing");

        Assert.Equal("failed", failed.Status);
        Assert.Contains("HTTP 503", failed.Error, StringComparison.Ordinal);
        Assert.Equal(30, (await ReadAllAsync("it-failing")).Count);
        Assert.Equal(1L, (await hub.Api.GetFromJsonAsync<DatasetSummary>("/api/datasets/it-failing"))!.CurrentVersion);

        TestAgency.Fail(hub.Agency, "it-failing", 200, "<html><body>Bảo trì hệ thống</body></html>");
        var html = await hub.SyncAsync("it-failing");
        Assert.Equal("failed", html.Status);
        Assert.Contains("did not return valid JSON", html.Error, StringComparison.Ordinal);
        Assert.Equal(0L, await hub.StagedCountAsync(html.Id));
        Assert.Equal(30, (await ReadAllAsync("it-failing")).Count);
    }

    [Fact]
    public async Task An_agency_that_suddenly_returns_nothing_does_not_wipe_the_dataset()
    {
        TestAgency.Serve(hub.Agency, "it-empty", Wards(12));
        Assert.Equal(12L, (await hub.SyncAsync("it-empty")).Inserted);

        TestAgency.Serve(hub.Agency, "it-empty", []);
        var run = await hub.SyncAsync("it-empty");

        Assert.Equal("failed", run.Status);
        Assert.Contains("refusing to delete all 12 published rows", run.Error, StringComparison.Ordinal);
        Assert.Equal(12, (await ReadAllAsync("it-empty")).Count);
    }

    [Fact]
    public async Task A_redelivered_batch_is_staged_once()
    {
        var writer = hub.Worker.Services.GetRequiredService<SnapshotWriter>();
        var runs = hub.Worker.Services.GetRequiredService<RunStore>();
        var catalog = hub.Worker.Services.GetRequiredService<HubCatalog>();
        var runId = await runs.StartAsync(catalog.Find("it-wards")!.Dataset, RunTrigger.Manual, CancellationToken.None);
        var payloadSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(new byte[] { 1 }));
        var page = new Hub.Connectors.Http.FetchedPage(new Uri("http://agency.test/x"), TimeProvider.System.GetUtcNow(), 200, [1], payloadSha256, JsonDocument.Parse("[]"), []);
        await runs.RecordRequestAsync(runId, 0, page, CancellationToken.None);
        var batch = new FetchedBatch(runId, "it-wards", 0, new FetchedRequest(0, "http://agency.test/x", TimeProvider.System.GetUtcNow(), 200, payloadSha256),
            [new ValidRecord("22001", new string('b', 64), """{"ma_xa":"22001","ten_xa":"x","dan_so":1}"""u8.ToArray())], []);

        Assert.True(await writer.StageAsync(batch, CancellationToken.None));
        Assert.False(await writer.StageAsync(batch, CancellationToken.None));

        Assert.Equal(1L, await hub.StagedCountAsync(runId));
        await runs.FailAsync(runId, "test over", CancellationToken.None);
        Assert.Equal(0L, await hub.StagedCountAsync(runId));
    }

    [Fact]
    public async Task Unknown_datasets_and_runs_are_404_problems_and_bad_limits_400()
    {
        var missing = await hub.Api.GetAsync("/api/datasets/no-such-dataset/records");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.OperatorApi.GetAsync($"/api/runs/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await hub.Api.GetAsync("/api/datasets/it-wards/records?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await hub.Api.GetAsync("/api/datasets/it-wards/records?limit=5000")).StatusCode);
    }
}
