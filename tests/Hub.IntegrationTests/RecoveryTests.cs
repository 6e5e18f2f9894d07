using System.Net.Http.Json;
using System.Text.Json;
using Hub.Api.Datasets;
using Hub.Core.Messages;
using Hub.Worker.Catalog;
using Hub.Worker.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class RecoveryTests(HubFixture hub)
{
    [Fact]
    public async Task A_run_whose_worker_died_mid_run_is_failed_and_the_next_run_counts_every_change_once()
    {
        TestAgency.Serve(hub.Agency, "it-abandon", Enumerable.Range(1, 30).Select(i => (object)TestAgency.Ward(i)).ToList());
        Assert.Equal(1L, (await hub.SyncAsync("it-abandon")).Version);

        // A worker starts a run, fetches a page, stages one batch of changed records, and dies.
        var dead = await StartRunWithOneStagedBatchAsync("it-abandon", payload: 9, suffix: " (dở dang)");
        Assert.Equal(10L, await hub.StagedCountAsync(dead));

        var later = new FakeTimeProvider(TimeProvider.System.GetUtcNow().AddMinutes(31));
        var housekeeping = new Housekeeping(hub.Worker.Services.GetRequiredService<NpgsqlDataSource>(), Options.Create(new StoreOptions()), later, NullLogger<Housekeeping>.Instance);
        var (abandoned, _, _) = await housekeeping.RunAsync(CancellationToken.None);

        Assert.Equal(1, abandoned);
        var run = await hub.WaitForRunAsync(dead);
        Assert.Equal("failed", run.Status);
        Assert.StartsWith("abandoned", run.Error, StringComparison.Ordinal);
        Assert.Equal(0L, await hub.StagedCountAsync(dead));
        var page = await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-abandon/records");
        Assert.Equal((1L, 30), (page!.Version, page.Records.Count));
        Assert.DoesNotContain(page.Records, r => r.GetProperty("ten_xa").GetString()!.Contains("dở dang", StringComparison.Ordinal));

        // The job runs again (Quartz recovers it on a live worker): the changes count once.
        TestAgency.Serve(hub.Agency, "it-abandon", Enumerable.Range(1, 30).Select(i => (object)TestAgency.Ward(i, i <= 10 ? " (dở dang)" : string.Empty)).ToList());
        var rerun = await hub.SyncAsync("it-abandon");
        Assert.Equal(("succeeded", 10L, 20L, 0L, 2L), (rerun.Status, rerun.Updated, rerun.Unchanged, rerun.Inserted, rerun.Version!.Value));
        Assert.Equal(30L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_abandon where _version_to is null"));
    }

    [Fact]
    public async Task A_run_whose_staged_rows_were_lost_fails_instead_of_publishing_what_is_left()
    {
        TestAgency.Serve(hub.Agency, "it-staging-lost", TestAgency.Wards(30));
        Assert.Equal(1L, (await hub.SyncAsync("it-staging-lost")).Version);

        // A run stages a batch, then the database restarts after a crash, which empties UNLOGGED staging tables.
        var runId = await StartRunWithOneStagedBatchAsync("it-staging-lost", payload: 11, suffix: string.Empty);
        await hub.QueryScalarAsync<int>($"truncate {StagingTable.Of(runId)}; select 1");

        await hub.Worker.Services.GetRequiredService<MassTransit.IBus>().Publish(new RunFetchCompleted(runId, "it-staging-lost", 1, 10));
        var run = await hub.WaitForRunAsync(runId);

        // A full refresh of what is left would have deleted the 30 published rows; nothing is published instead.
        Assert.Equal("failed", run.Status);
        Assert.Contains("rerun", run.Error, StringComparison.Ordinal);
        var page = await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-staging-lost/records");
        Assert.Equal((1L, 30), (page!.Version, page.Records.Count));
        Assert.Equal(0L, await hub.StagedCountAsync(runId));
    }

    [Fact]
    public async Task Housekeeping_drops_a_staging_table_without_a_running_run_and_keeps_a_running_one()
    {
        TestAgency.Serve(hub.Agency, "it-staging-orphan", TestAgency.Wards(20));
        Assert.Equal(1L, (await hub.SyncAsync("it-staging-orphan")).Version);
        var running = await StartRunWithOneStagedBatchAsync("it-staging-orphan", payload: 13, suffix: " (đang chạy)");
        // A staging table no running run owns, as a store restored from a backup taken mid-run would hold.
        var orphan = StagingTable.Of(Guid.CreateVersion7());
        await hub.QueryScalarAsync<int>($"create table {orphan} (_key text); select 1");
        var housekeeping = new Housekeeping(hub.Worker.Services.GetRequiredService<NpgsqlDataSource>(), Options.Create(new StoreOptions()), TimeProvider.System, NullLogger<Housekeeping>.Instance);

        var (_, orphans, _) = await housekeeping.RunAsync(CancellationToken.None);

        Assert.True(orphans >= 1);
        Assert.False(await hub.QueryScalarAsync<bool>("select to_regclass(@orphan) is not null", new { orphan }));
        Assert.Equal(10L, await hub.StagedCountAsync(running));
        await hub.Worker.Services.GetRequiredService<RunStore>().FailAsync(running, "test over", CancellationToken.None);
    }

    [Fact]
    public async Task Raw_payloads_past_their_retention_are_removed_and_recent_ones_kept()
    {
        await hub.QueryScalarAsync<int>(
            "insert into hub.payloads (sha256, body, stored_at) values ('old-payload-for-retention-test', '\\x00', '2000-01-01T00:00:00Z'); select 1");
        var before = await hub.QueryScalarAsync<long>("select count(*) from hub.payloads");
        var housekeeping = new Housekeeping(hub.Worker.Services.GetRequiredService<NpgsqlDataSource>(), Options.Create(new StoreOptions()), TimeProvider.System, NullLogger<Housekeeping>.Instance);

        var (_, _, expired) = await housekeeping.RunAsync(CancellationToken.None);

        Assert.Equal(1, expired);
        Assert.Equal(before - 1, await hub.QueryScalarAsync<long>("select count(*) from hub.payloads"));
        Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from hub.payloads where sha256 = 'old-payload-for-retention-test'"));
    }

    /// <summary>
    /// Starts a scheduled run of <paramref name="datasetId"/> that fetched one page (raw payload the byte
    /// <paramref name="payload"/>) and staged wards 1 to 10 (names ending in <paramref name="suffix"/>) as its batch 0.
    /// </summary>
    private async Task<Guid> StartRunWithOneStagedBatchAsync(string datasetId, byte payload, string suffix)
    {
        var entry = hub.Worker.Services.GetRequiredService<HubCatalog>().Find(datasetId)!;
        var runs = hub.Worker.Services.GetRequiredService<RunStore>();
        var runId = await runs.StartAsync(entry.Dataset, RunTrigger.Schedule, CancellationToken.None);
        var payloadSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(new[] { payload }));
        await runs.RecordRequestAsync(runId, 0, new Hub.Connectors.Http.FetchedPage(new Uri("http://agency.test/p"), TimeProvider.System.GetUtcNow(), 200, [payload], payloadSha256, JsonDocument.Parse("[]"), []), CancellationToken.None);
        var records = Enumerable.Range(1, 10).Select(i => entry.Checker.Check(JsonSerializer.SerializeToElement(TestAgency.Ward(i, suffix))).Valid!).ToList();
        Assert.True(await hub.Worker.Services.GetRequiredService<SnapshotWriter>().StageAsync(
            new FetchedBatch(runId, datasetId, 0, new FetchedRequest(0, "http://agency.test/p", TimeProvider.System.GetUtcNow(), 200, payloadSha256), records, []), CancellationToken.None));
        return runId;
    }
}
