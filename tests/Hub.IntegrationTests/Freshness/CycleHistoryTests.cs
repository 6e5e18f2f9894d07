using Hub.Core.Catalog;
using Hub.Worker.Catalog;
using Hub.Worker.Store;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.IntegrationTests.Freshness;

[Collection(HubTestGroup.Name)]
public sealed class CycleHistoryTests(HubFixture hub)
{
    [Fact]
    public async Task Registering_a_dataset_records_its_cycle_and_each_later_change_of_cycle()
    {
        var entry = hub.Worker.Services.GetRequiredService<HubCatalog>().Entries.First();
        var agency = entry.Agency with { Code = "FQC" };
        var dataset = entry.Dataset with { Id = "fq-cycle", AgencyCode = "FQC", UpdateCycle = UpdateCycle.Monthly, ConfigRevision = "r1" };
        var registry = hub.Worker.Services.GetRequiredService<DatasetRegistry>();

        await registry.RegisterAsync(agency, dataset, CancellationToken.None);
        await registry.RegisterAsync(agency, dataset with { ConfigRevision = "r2" }, CancellationToken.None); // same cycle: no new row
        await registry.RegisterAsync(agency, dataset with { ConfigRevision = "r3", UpdateCycle = UpdateCycle.HalfYearly }, CancellationToken.None);

        Assert.Equal(
            "monthly,half_yearly",
            await hub.QueryScalarAsync<string>("select string_agg(update_cycle, ',' order by effective_from) from hub.dataset_cycles where dataset_id = 'fq-cycle'"));
        Assert.Equal("half_yearly", await hub.QueryScalarAsync<string>("select update_cycle from hub.datasets where id = 'fq-cycle'"));
    }
}
