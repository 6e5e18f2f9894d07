using System.Net.Http.Json;
using Hub.Api.Datasets;
using Hub.Connectors.Configuration;
using Hub.Worker.Catalog;
using Hub.Worker.Store;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class AtomicityTests(HubFixture hub)
{
    private static List<object> Wards(int count, string suffix) => Enumerable.Range(1, count).Select(i => (object)TestAgency.Ward(i, suffix)).ToList();

    [Fact]
    public async Task Readers_see_version_one_or_version_two_never_a_mix_while_a_run_publishes()
    {
        TestAgency.Serve(hub.Agency, "it-atomic", Wards(2000, " v1"));
        Assert.Equal(1L, (await hub.SyncAsync("it-atomic")).Version);
        var firstPage = await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-atomic/records?limit=1000");
        TestAgency.Serve(hub.Agency, "it-atomic", Wards(2000, " v2"));

        var sync = hub.SyncAsync("it-atomic");
        var reads = 0;
        var sawVersions = new HashSet<long>();
        while (!sync.IsCompleted || reads == 0)
        {
            var page = await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-atomic/records?limit=1000");
            var suffixes = page!.Records.Select(r => r.GetProperty("ten_xa").GetString()![^2..]).Distinct().ToList();
            Assert.Equal([page.Version == 1 ? "v1" : "v2"], suffixes);
            Assert.Equal(1000, page.Records.Count);
            sawVersions.Add(page.Version);
            reads++;
        }

        Assert.Equal(2L, (await sync).Version);
        Assert.Contains(1L, sawVersions);

        // A reader paging through version 1 keeps reading version 1 after version 2 is published.
        var secondPage = await hub.Api.GetFromJsonAsync<RecordPage>($"/api/datasets/it-atomic/records?limit=1000&version={firstPage!.Version}&after={firstPage.Next}");
        Assert.Equal(1000, secondPage!.Records.Count);
        Assert.All(secondPage.Records, r => Assert.EndsWith(" v1", r.GetProperty("ten_xa").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_property_that_changes_type_stops_the_dataset_until_a_new_schema_version_is_declared()
    {
        var entry = hub.Worker.Services.GetRequiredService<HubCatalog>().Find("it-atomic")!;
        var (schema, error) = SchemaColumns.Parse("ward.v1.json", TestAgency.WardSchema.Replace("\"dan_so\": { \"type\": \"integer\"", "\"dan_so\": { \"type\": \"string\"", StringComparison.Ordinal), 1);
        Assert.Null(error);
        var registry = hub.Worker.Services.GetRequiredService<DatasetRegistry>();

        var refused = await Assert.ThrowsAsync<BreakingSchemaChangeException>(() => registry.RegisterAsync(entry.Agency, entry.Dataset with { Schema = schema! }, CancellationToken.None));

        Assert.Contains("column 'dan_so'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("declare a new schema version", refused.Message, StringComparison.Ordinal);
        Assert.Equal("bigint", await hub.QueryScalarAsync<string>(
            "select data_type from information_schema.columns where table_schema = 'open_data' and table_name = 'it_atomic' and column_name = 'dan_so'"));
    }
}
