using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Api.Datasets;
using Hub.Core.Messages;
using Hub.Worker.Catalog;
using Hub.Worker.Quarantine;
using Hub.Worker.Store;
using MassTransit;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.IntegrationTests;

/// <summary>Nothing is published or served wrong when runs overlap, a version is not there yet, or a replay fails.</summary>
[Collection(HubTestGroup.Name)]
public sealed class ConsistencyTests(HubFixture hub)
{
    [Fact]
    public async Task A_run_whose_unchanged_records_another_run_changed_meanwhile_fails_and_publishes_nothing()
    {
        TestAgency.Serve(hub.Agency, "it-unchanged-race", TestAgency.Wards(10));
        await hub.SyncAsync("it-unchanged-race");
        var entry = hub.Worker.Services.GetRequiredService<HubCatalog>().Find("it-unchanged-race")!;
        var runs = hub.Worker.Services.GetRequiredService<RunStore>();

        // A push run looks 22001 up against version 1: same hash, so it will send it without JSON ("unchanged")...
        var hash = await hub.QueryScalarAsync<string>("select _hash from open_data.it_unchanged_race where _key = '22001' and _version_to is null");
        var runId = await runs.StartAsync(entry.Dataset, RunTrigger.Push, CancellationToken.None);
        byte[] body = [7];
        var bodySha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body));
        var page = new Hub.Connectors.Http.FetchedPage(new Uri("http://agency.test/push"), TimeProvider.System.GetUtcNow(), 200, body, bodySha256, JsonDocument.Parse("[]"), []);
        await runs.RecordRequestAsync(runId, 0, page, CancellationToken.None);

        // ...but before its merge a full sync publishes version 2, which changes 22001.
        var changed = TestAgency.Wards(10);
        changed[0] = TestAgency.Ward(1, " (đổi tên)");
        TestAgency.Serve(hub.Agency, "it-unchanged-race", changed);
        Assert.Equal(2L, (await hub.SyncAsync("it-unchanged-race")).Version);

        var request = new FetchedRequest(0, "http://agency.test/push", TimeProvider.System.GetUtcNow(), 200, bodySha256);
        var records = new List<ValidRecord> { new("22001", hash, null), entry.Checker.Check(JsonSerializer.SerializeToElement(TestAgency.Ward(50))).Valid! };
        await hub.Worker.Services.GetRequiredService<SnapshotWriter>().StageAsync(new FetchedBatch(runId, "it-unchanged-race", 0, request, records, []), CancellationToken.None);
        await hub.Worker.Services.GetRequiredService<IBus>().Publish(new RunFetchCompleted(runId, "it-unchanged-race", 1, 2));
        var run = await hub.WaitForRunAsync(runId);

        Assert.Equal("failed", run.Status);
        Assert.Contains("1 records were judged unchanged against version 1 but version 2 changed or deleted them", run.Error, StringComparison.Ordinal);
        Assert.Null(run.Version);
        var current = await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-unchanged-race/records");
        Assert.Equal((2L, 10), (current!.Version, current.Records.Count));
        Assert.EndsWith("(đổi tên)", current.Records.Single(r => r.GetProperty("ma_xa").GetString() == "22001").GetProperty("ten_xa").GetString(), StringComparison.Ordinal);
        Assert.Equal(0L, await hub.StagedCountAsync(runId));
    }

    [Fact]
    public async Task A_version_that_is_not_published_yet_is_not_found_for_records_and_export()
    {
        TestAgency.Serve(hub.Agency, "it-future-version", TestAgency.Wards(3));
        await hub.SyncAsync("it-future-version");

        foreach (var path in new[] { "records?version=2", "export?version=2", "export?format=json&version=2", "export?version=-1" })
        {
            var response = await hub.Api.GetAsync($"/api/datasets/it-future-version/{path}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
            Assert.Contains("has no version", problem!.Detail, StringComparison.Ordinal);
        }

        Assert.Equal(3, (await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-future-version/records?version=1"))!.Records.Count);
        Assert.Equal(HttpStatusCode.OK, (await hub.Api.GetAsync("/api/datasets/it-future-version/export?version=1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await hub.Api.GetAsync("/api/datasets/it-future-version/export?version=0")).StatusCode);

        // Once published, the same number answers.
        TestAgency.Serve(hub.Agency, "it-future-version", TestAgency.Wards(4));
        await hub.SyncAsync("it-future-version");
        var second = await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-future-version/records?version=2");
        Assert.Equal((2L, 4), (second!.Version, second.Records.Count));
    }

    [Fact]
    public async Task Quarantined_records_whose_replay_run_failed_are_replayed_again()
    {
        var records = TestAgency.Wards(4);
        records[1] = new Dictionary<string, object?> { ["ma_xa"] = "22002", ["ten_xa"] = "Xã âm", ["dan_so"] = -5 };
        records[2] = new Dictionary<string, object?> { ["ma_xa"] = "22003", ["ten_xa"] = "Xã âm nữa", ["dan_so"] = -7 };
        TestAgency.Serve(hub.Agency, "it-replay-failed", records);
        Assert.Equal(2L, (await hub.SyncAsync("it-replay-failed")).Quarantined);

        // A first replay's run failed (its worker stopped, say) after it had claimed the records.
        var runs = hub.Worker.Services.GetRequiredService<RunStore>();
        var failed = await runs.StartAsync(hub.Worker.Services.GetRequiredService<HubCatalog>().Find("it-replay-failed")!.Dataset, RunTrigger.Replay, CancellationToken.None);
        await runs.FailAsync(failed, "abandoned (test)", CancellationToken.None);
        await hub.QueryScalarAsync<int>("update hub.quarantine set replayed_run_id = @failed where dataset_id = 'it-replay-failed'; select 1", new { failed });

        await hub.WithFixedWardSchemaAsync("it-replay-failed", async fixedCatalog =>
        {
            var replay = new QuarantineReplay(fixedCatalog, hub.Worker.Services.GetRequiredService<NpgsqlDataSource>(), runs, hub.Worker.Services.GetRequiredService<SnapshotWriter>(), hub.Worker.Services.GetRequiredService<AuditChain>(), hub.Worker.Services.GetRequiredService<IBus>(), NullLogger<QuarantineReplay>.Instance);

            var result = await replay.ReplayAsync("it-replay-failed", "it-operator", CancellationToken.None);

            Assert.Equal((2, 2), (result!.Checked, result.Passed));
            var run = await hub.WaitForRunAsync(result.RunId!.Value);
            Assert.Equal(("succeeded", 2L), (run.Status, run.Inserted));
            var again = await replay.ReplayAsync("it-replay-failed", "it-operator", CancellationToken.None);
            Assert.Equal((null, 0), (again!.RunId, again.Passed));
        });
    }
}
