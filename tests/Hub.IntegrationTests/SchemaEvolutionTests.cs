using System.Net;
using System.Net.Http.Json;
using Hub.Api.Datasets;
using Hub.Worker.Store;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class SchemaEvolutionTests(HubFixture hub)
{
    private static List<object> Wards(int count, Action<int, Dictionary<string, object?>>? change = null) =>
        Enumerable.Range(1, count).Select(i =>
        {
            var ward = TestAgency.Ward(i);
            change?.Invoke(i, ward);
            return (object)ward;
        }).ToList();

    [Fact]
    public async Task A_property_the_agency_already_sends_fills_its_new_column_for_every_row_on_the_next_run()
    {
        using var agency = new OwnAgency(hub, "it-schema-add");
        TestAgency.Serve(hub.Agency, "it-schema-add", Wards(60));
        agency.Write(TestAgency.WardSchema.Replace("\"dien_tich\": { \"type\": \"number\" },", "", StringComparison.Ordinal));
        await agency.RegisteredAsync(1, "ma_xa");
        Assert.Equal(1L, (await hub.SyncAsync("it-schema-add")).Version);

        // The schema gains dien_tich, which every record already carries: each row's content changes.
        agency.Write(TestAgency.WardSchema);
        await agency.RegisteredAsync(1, "dien_tich");
        var run = await hub.SyncAsync("it-schema-add");

        Assert.Equal(("succeeded", 2L, 60L, 0L), (run.Status, run.Version, run.Updated, run.Unchanged));
        Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_schema_add where _version_to is null and dien_tich is null"));
        Assert.Equal(60L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_schema_add where _version_to is null"));

        // Version 1 was published without the column: the audit chain still verifies its rows.
        var audit = await hub.Worker.Services.GetRequiredService<AuditChain>().VerifyAsync(CancellationToken.None);
        Assert.True(audit.Intact, audit.FirstBroken);
    }

    [Theory]
    [InlineData("it-schema-key", "ma_xa", "[ma_xa, ten_xa]", "the primary key changes from [ma_xa] to [ma_xa, ten_xa]")]
    [InlineData("it-schema-drop", "dien_tich", "ma_xa", "property 'dien_tich' is no longer stored")]
    public async Task A_changed_primary_key_or_a_removed_property_under_the_same_schema_version_blocks_the_dataset(string datasetId, string removed, string primaryKey, string reason)
    {
        using var agency = new OwnAgency(hub, datasetId);
        TestAgency.Serve(hub.Agency, datasetId, Wards(10));
        agency.Write(TestAgency.WardSchema);
        await agency.RegisteredAsync(1, "dien_tich");
        Assert.Equal(1L, (await hub.SyncAsync(datasetId)).Version);

        var schema = removed == "dien_tich" ? TestAgency.WardSchema.Replace("\"dien_tich\": { \"type\": \"number\" },", "", StringComparison.Ordinal) : TestAgency.WardSchema;
        agency.Write(schema, primaryKey: primaryKey);
        await agency.UntilAsync("select blocked_reason is not null from hub.datasets where id = @id", "blocked");

        var dataset = await hub.Api.GetFromJsonAsync<DatasetSummary>($"/api/datasets/{datasetId}");
        Assert.Contains(reason, dataset!.BlockedReason, StringComparison.Ordinal);
        Assert.Equal(1L, dataset.CurrentVersion);
        Assert.Equal(HttpStatusCode.Conflict, (await hub.OperatorApi.PostAsync($"/api/connectors/{datasetId}/run", null)).StatusCode);

        // Put back, the dataset runs again.
        agency.Write(TestAgency.WardSchema);
        await agency.UntilAsync("select blocked_reason is null from hub.datasets where id = @id", "unblocked");
        Assert.Equal("succeeded", (await hub.SyncAsync(datasetId)).Status);
    }

    [Fact]
    public async Task A_field_outside_the_schema_that_changes_on_every_export_creates_no_version()
    {
        using var agency = new OwnAgency(hub, "it-schema-volatile");
        agency.Write(TestAgency.WardSchema);
        await agency.RegisteredAsync(1, "dien_tich");
        TestAgency.Serve(hub.Agency, "it-schema-volatile", Wards(30, (_, w) => w["xuat_luc"] = "2026-11-28T01:00:00Z"));
        Assert.Equal(1L, (await hub.SyncAsync("it-schema-volatile")).Version);

        TestAgency.Serve(hub.Agency, "it-schema-volatile", Wards(30, (_, w) => w["xuat_luc"] = "2026-11-29T01:00:00Z"));
        var run = await hub.SyncAsync("it-schema-volatile");

        Assert.Equal(("succeeded", (long?)null, 0L, 30L), (run.Status, run.Version, run.Updated, run.Unchanged));
        Assert.Equal(1L, await hub.QueryScalarAsync<long>("select count(*) from hub.versions where dataset_id = 'it-schema-volatile'"));
    }
}
