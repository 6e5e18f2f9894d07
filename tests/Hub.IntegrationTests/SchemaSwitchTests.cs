using System.Net.Http.Json;
using System.Text.Json;
using Hub.Core.Messages;
using Hub.Api.Lineage;
using Hub.Worker.Catalog;
using Hub.Worker.Store;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.IntegrationTests;

/// <summary>Edge cases of a dataset moving to a new table when a breaking schema change declares a higher schema version.</summary>
[Collection(HubTestGroup.Name)]
public sealed class SchemaSwitchTests(HubFixture hub)
{
    private static readonly string WithoutArea = TestAgency.WardSchema.Replace("\"dien_tich\": { \"type\": \"number\" },", "", StringComparison.Ordinal);

    [Fact]
    public async Task A_new_schema_version_never_takes_the_table_of_a_dataset_whose_id_ends_in_its_version()
    {
        using var x = new OwnAgency(hub, "it-sw-x");
        using var xv2 = new OwnAgency(hub, "it-sw-x-v2");
        TestAgency.Serve(hub.Agency, "it-sw-x", TestAgency.Wards(5));
        TestAgency.Serve(hub.Agency, "it-sw-x-v2", TestAgency.Wards(7));
        x.Write(TestAgency.WardSchema);
        xv2.Write(TestAgency.WardSchema);
        await x.RegisteredAsync(1, "dien_tich");
        await xv2.RegisteredAsync(1, "dien_tich");
        Assert.Equal(1L, (await hub.SyncAsync("it-sw-x")).Version);
        Assert.Equal(1L, (await hub.SyncAsync("it-sw-x-v2")).Version);

        // it-sw-x drops a property under schema version 2: its new table is not it-sw-x-v2's table it_sw_x_v2.
        x.Write(WithoutArea, schemaVersion: 2);
        await x.UntilAsync("select pending_table is not null from hub.datasets where id = @id", "new table pending");

        Assert.Equal("it_sw_x__v2", await hub.QueryScalarAsync<string>("select pending_table from hub.datasets where id = 'it-sw-x'"));
        Assert.Equal(7L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_sw_x_v2 where _version_to is null and dien_tich is not null"));
        Assert.Equal(2L, (await hub.SyncAsync("it-sw-x")).Version);
        Assert.Equal(7, (await hub.Api.GetFromJsonAsync<Hub.Api.Datasets.RecordPage>("/api/datasets/it-sw-x-v2/records"))!.Records.Count);
    }

    [Fact]
    public async Task A_schema_version_declared_again_never_drops_the_table_it_published_into()
    {
        using var agency = new OwnAgency(hub, "it-sw-reuse");
        TestAgency.Serve(hub.Agency, "it-sw-reuse", TestAgency.Wards(6));
        agency.Write(TestAgency.WardSchema);
        await agency.RegisteredAsync(1, "dien_tich");
        Assert.Equal(1L, (await hub.SyncAsync("it-sw-reuse")).Version);
        agency.Write(WithoutArea, schemaVersion: 2);
        await agency.UntilAsync("select pending_table is not null from hub.datasets where id = @id", "new table pending");
        Assert.Equal(2L, (await hub.SyncAsync("it-sw-reuse")).Version);

        // The file goes back to schema version 1 (nothing breaks), then declares a breaking version 2 again: its
        // table name is the one the dataset publishes in now, which must not be dropped for a new table.
        agency.Write(WithoutArea, schemaVersion: 1);
        await agency.UntilAsync("select schema_version = 1 from hub.datasets where id = @id", "schema version 1 registered");
        agency.Write(WithoutArea.Replace("\"ngay_thanh_lap\": { \"type\": \"string\", \"format\": \"date\" },", "", StringComparison.Ordinal), schemaVersion: 2);
        await agency.UntilAsync("select blocked_reason is not null from hub.datasets where id = @id", "blocked");

        Assert.Contains("already holds published data", await hub.QueryScalarAsync<string>("select blocked_reason from hub.datasets where id = 'it-sw-reuse'"), StringComparison.Ordinal);
        Assert.Equal(("it_sw_reuse__v2", 6L), (
            await hub.QueryScalarAsync<string>("select table_name from hub.datasets where id = 'it-sw-reuse'"),
            await hub.QueryScalarAsync<long>("select count(*) from open_data.it_sw_reuse__v2 where _version_to is null and ngay_thanh_lap is not null")));
    }

    [Fact]
    public async Task A_push_started_before_a_new_schema_version_fails_instead_of_publishing_a_partial_table()
    {
        using var agency = new OwnAgency(hub, "it-sw-cross");
        TestAgency.Serve(hub.Agency, "it-sw-cross", TestAgency.Wards(10));
        agency.Write(TestAgency.WardSchema);
        await agency.RegisteredAsync(1, "dien_tich");
        Assert.Equal(1L, (await hub.SyncAsync("it-sw-cross")).Version);

        // A push starts under schema version 1 ...
        var catalog = hub.Worker.Services.GetRequiredService<HubCatalog>();
        var runs = hub.Worker.Services.GetRequiredService<RunStore>();
        var writer = hub.Worker.Services.GetRequiredService<SnapshotWriter>();
        var dataset = catalog.Find("it-sw-cross")!.Dataset;
        var checker = catalog.Find("it-sw-cross")!.Checker;
        var runId = await runs.StartAsync(dataset, RunTrigger.Push, CancellationToken.None);

        // ... schema version 2 (a breaking change) is registered while it runs ...
        agency.Write(WithoutArea, schemaVersion: 2);
        await agency.UntilAsync("select pending_table is not null from hub.datasets where id = @id", "new table pending");

        // ... and its one record arrives after: it must not publish a one-record table and switch the dataset to it.
        var record = checker.Check(JsonSerializer.SerializeToElement(TestAgency.Ward(1))).Valid!;
        var request = new FetchedRequest(0, "http://agency.test/push", TimeProvider.System.GetUtcNow(), 200, new string('0', 64));
        Assert.True(await writer.StageAsync(new FetchedBatch(runId, "it-sw-cross", 0, request, [record], []), CancellationToken.None));
        await writer.MarkFetchedAsync(new RunFetchCompleted(runId, "it-sw-cross", 1, 1), CancellationToken.None);
        Assert.Null(await writer.TryFinalizeAsync(runId, CancellationToken.None));

        var run = await hub.WaitForRunAsync(runId);
        Assert.Equal("failed", run.Status);
        Assert.Contains("the dataset's schema changed during the run (version 1 → 2); rerun", run.Error, StringComparison.Ordinal);
        Assert.Equal(("it_sw_cross", "it_sw_cross__v2", 1L), (
            await hub.QueryScalarAsync<string>("select table_name from hub.datasets where id = 'it-sw-cross'"),
            await hub.QueryScalarAsync<string>("select pending_table from hub.datasets where id = 'it-sw-cross'"),
            await hub.QueryScalarAsync<long>("select current_version from hub.datasets where id = 'it-sw-cross'")));
        Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_sw_cross__v2"));
    }

    [Fact]
    public async Task Lineage_never_serves_a_value_of_a_column_a_new_schema_version_drops()
    {
        using var agency = new OwnAgency(hub, "it-sw-drop");
        TestAgency.Serve(hub.Agency, "it-sw-drop", TestAgency.Wards(5));
        agency.Write(TestAgency.WardSchema);
        await agency.RegisteredAsync(1, "dien_tich");
        Assert.Equal(1L, (await hub.SyncAsync("it-sw-drop")).Version);

        // dien_tich becomes personal data to drop: a breaking change, so a new table without the column.
        agency.Write(TestAgency.WardSchema.Replace("\"dien_tich\": { \"type\": \"number\" }", "\"dien_tich\": { \"type\": \"number\", \"x-personal-data\": \"drop\" }", StringComparison.Ordinal), schemaVersion: 2);
        await agency.UntilAsync("select pending_table is not null from hub.datasets where id = @id", "new table pending");
        Assert.Equal(2L, (await hub.SyncAsync("it-sw-drop")).Version);

        // The old table keeps the column (for SQL); the public lineage of both versions does not show it.
        Assert.Equal(5L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_sw_drop where dien_tich is not null"));
        var lineage = await hub.Api.GetFromJsonAsync<RecordLineage>("/api/lineage/it-sw-drop/22001");
        Assert.Equal([1L, 2L], lineage!.Versions.Select(v => v.VersionFrom).ToList());
        Assert.All(lineage.Versions, v => Assert.False(v.Values.TryGetProperty("dien_tich", out _)));
        Assert.All(lineage.Versions, v => Assert.Equal("22001", v.Values.GetProperty("ma_xa").GetString()));
    }
}
