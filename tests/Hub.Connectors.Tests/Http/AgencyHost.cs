using Hub.Connectors.Http;
using Hub.Core.Catalog;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WireMock.Server;

namespace Hub.Connectors.Tests.Http;

/// <summary>
/// A WireMock agency and the connector services (short retry delays) to fetch from it. With
/// <c>fakeClock</c> the services run on <see cref="Clock"/>; Polly then waits on it too, so only tests without
/// retries or timeouts use it.
/// </summary>
public sealed class AgencyHost : IDisposable
{
    public AgencyHost(Dictionary<string, string?>? settings = null, bool fakeClock = false)
    {
        var values = new Dictionary<string, string?>
        {
            ["Connectors:RetryDelay"] = "00:00:00.010",
            ["Connectors:MaxRetries"] = "3",
            ["Connectors:AttemptTimeout"] = "00:00:02",
            ["Connectors:MaxPageBytes"] = "100000",
        };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        var services = new ServiceCollection();
        if (fakeClock)
        {
            services.AddSingleton<TimeProvider>(Clock);
        }

        Services = services
            .AddConnectors(new ConfigurationBuilder().AddInMemoryCollection(values).Build())
            .BuildServiceProvider();
    }

    public WireMockServer Agency { get; } = WireMockServer.Start();

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2025, 3, 1, 1, 0, 0, TimeSpan.Zero));

    public ServiceProvider Services { get; }

    public Uri Url(string pathAndQuery) => new($"{Agency.Url}{pathAndQuery}");

    public async Task<List<FetchedPage>> FetchAllAsync(SourceDefinition source)
    {
        var pages = new List<FetchedPage>();
        await foreach (var page in Services.GetRequiredService<RecordSources>().FetchAsync(source, CancellationToken.None))
        {
            pages.Add(page);
        }

        return pages;
    }

    /// <summary>The value of <paramref name="field"/> in every record of every page, in order.</summary>
    public async Task<List<string>> FetchFieldAsync(SourceDefinition source, string field)
    {
        var values = new List<string>();
        foreach (var page in await FetchAllAsync(source))
        {
            using (page)
            {
                values.AddRange(page.Records.Select(r => r.GetProperty(field).ToString()));
            }
        }

        return values;
    }

    public void Dispose()
    {
        Agency.Stop();
        Agency.Dispose();
        Services.Dispose();
    }
}
