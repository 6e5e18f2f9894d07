using System.Net.Http.Json;
using System.Text.Json;
using Hub.Connectors.Configuration;
using Hub.Connectors.Http;
using Hub.Connectors.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Connectors.Tests.Demo;

/// <summary>The shipped <c>connectors.d</c> against the shipped demo agency, with the agency's fault injection.</summary>
public sealed class DemoAgencyTests : IAsyncLifetime
{
    private DemoAgencyProcess? agency;
    private ServiceProvider? services;

    public async Task InitializeAsync()
    {
        agency = await DemoAgencyProcess.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Connectors:RetryDelay"] = "00:00:00.010",
            ["Connectors:MaxRetries"] = "3",
        }).Build();
        services = new ServiceCollection().AddConnectors(configuration).BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        if (services is not null)
        {
            await services.DisposeAsync();
        }

        if (agency is not null)
        {
            await agency.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_ward_connector_reads_every_Ninh_Thuan_ward_through_a_503_and_quarantines_the_broken_records()
    {
        var demo = agency!.Url.ToString().TrimEnd('/');
        var catalog = CatalogLoader.LoadDirectory(Path.Combine(AppContext.BaseDirectory, "connectors.d"), name => name == "DEMO_AGENCY_URL" ? demo : null);
        Assert.Empty(catalog.Errors);
        var dataset = catalog.Datasets.Single(d => d.Id == "dvhc-xa-ninh-thuan");
        using var admin = new HttpClient { BaseAddress = agency.Url };
        (await admin.PostAsJsonAsync(new Uri("/admin/faults", UriKind.Relative), new { path = "/api/wards", status = 503, times = 1 })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync(new Uri("/admin/faults", UriKind.Relative), new { path = "/api/wards", badRecordEvery = 10 })).EnsureSuccessStatusCode();

        var checker = RecordChecker.For(dataset, hashKey: null);
        var pageSizes = new List<int>();
        var valid = new List<string>();
        var rejected = new List<(string? Key, IReadOnlyList<string> Errors)>();
        await foreach (var page in services!.GetRequiredService<RecordSources>().FetchAsync(dataset.Source, CancellationToken.None))
        {
            using (page)
            {
                pageSizes.Add(page.Records.Count);
                foreach (var batch in checker.CheckBatches(page.Records.Select(checker.Map), batchSize: 1000))
                {
                    valid.AddRange(batch.Valid.Select(r => r.Key));
                    rejected.AddRange(batch.Rejected.Select(r => (r.Key, r.Errors)));
                }
            }
        }

        // Every ward of Ninh Thuận in the shipped list, each record either published or quarantined with its reasons.
        var wards = WardCodesOfNinhThuan();
        Assert.Equal(wards.Count, pageSizes.Sum());
        Assert.Equal(pageSizes.Sum(size => size / 10), rejected.Count);
        Assert.Equal(wards.Count - rejected.Count, valid.Distinct().Count());
        Assert.Subset(wards, valid.ToHashSet());
        Assert.All(rejected, r => Assert.Contains(r.Errors, e => e.Contains("ten_xa", StringComparison.Ordinal)));
        // The 503 was used up (so the connector retried it); the bad-record fault is still registered.
        var faults = await admin.GetFromJsonAsync<JsonElement>(new Uri("/admin/faults", UriKind.Relative));
        var left = Assert.Single(faults.EnumerateArray());
        Assert.Equal(10, left.GetProperty("fault").GetProperty("badRecordEvery").GetInt32());
    }

    private static HashSet<string> WardCodesOfNinhThuan()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "demo-data", "dvhcvn.json")));
        return document.RootElement.GetProperty("data").EnumerateArray()
            .Where(province => province.GetProperty("level1_id").GetString() == "58")
            .SelectMany(province => province.GetProperty("level2s").EnumerateArray())
            .SelectMany(district => district.GetProperty("level3s").EnumerateArray())
            .Select(ward => ward.GetProperty("level3_id").GetString()!)
            .ToHashSet();
    }
}
