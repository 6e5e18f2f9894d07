using System.Globalization;
using System.Text.Json;
using Hub.Connectors.Http;
using Hub.Core.Catalog;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Hub.Connectors.Tests.Http;

public sealed class RestJsonSourceTests : IDisposable
{
    private readonly WireMockServer agency = WireMockServer.Start();
    private readonly ServiceProvider services;

    public RestJsonSourceTests()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Connectors:RetryDelay"] = "00:00:00.010",
            ["Connectors:MaxRetries"] = "3",
            ["Connectors:AttemptTimeout"] = "00:00:02",
            ["Connectors:MaxPageBytes"] = "100000",
        }).Build();
        services = new ServiceCollection().AddConnectors(configuration).BuildServiceProvider();
    }

    public void Dispose()
    {
        agency.Stop();
        agency.Dispose();
        services.Dispose();
    }

    private RestJsonSource Source => services.GetRequiredService<RestJsonSource>();

    private static string Page(int from, int count) =>
        JsonSerializer.Serialize(new
        {
            total = 250,
            data = Enumerable.Range(from, count).Select(i => new { ma_xa = i.ToString("00000", CultureInfo.InvariantCulture) }),
        });

    private RestSourceDefinition Definition(PagingDefinition paging, string path = "/api/wards") => new()
    {
        Url = new Uri($"{agency.Url}{path}?province=58"),
        RecordPath = "$.data",
        Paging = paging,
        Timeout = TimeSpan.FromSeconds(5),
    };

    private async Task<List<string>> FetchKeysAsync(RestSourceDefinition source)
    {
        var keys = new List<string>();
        await foreach (var page in Source.FetchAsync(source, CancellationToken.None))
        {
            using (page)
            {
                keys.AddRange(page.Records.Select(r => r.GetProperty("ma_xa").GetString()!));
            }
        }

        return keys;
    }

    [Fact]
    public async Task Offset_paging_fetches_every_page_until_a_short_one()
    {
        for (var offset = 0; offset < 250; offset += 100)
        {
            agency.Given(Request.Create().WithPath("/api/wards").WithParam("offset", offset.ToString(CultureInfo.InvariantCulture)).WithParam("limit", "100").WithParam("province", "58").UsingGet())
                .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(Page(offset, Math.Min(100, 250 - offset))));
        }

        var keys = await FetchKeysAsync(Definition(new PagingDefinition { Style = PagingStyle.Offset, PageSize = 100 }));

        Assert.Equal(250, keys.Count);
        Assert.Equal(250, keys.Distinct().Count());
        Assert.Equal(3, agency.LogEntries.Count);
    }

    [Fact]
    public async Task Page_number_paging_stops_at_an_empty_page()
    {
        agency.Given(Request.Create().WithPath("/api/wards").WithParam("page", "1").WithParam("size", "2").UsingGet())
            .RespondWith(Response.Create().WithBody(Page(0, 2)));
        agency.Given(Request.Create().WithPath("/api/wards").WithParam("page", "2").WithParam("size", "2").UsingGet())
            .RespondWith(Response.Create().WithBody(Page(2, 2)));
        agency.Given(Request.Create().WithPath("/api/wards").WithParam("page", "3").WithParam("size", "2").UsingGet())
            .RespondWith(Response.Create().WithBody(Page(4, 0)));

        var keys = await FetchKeysAsync(Definition(new PagingDefinition { Style = PagingStyle.Page, PageSize = 2, PageSizeParameter = "size" }));

        Assert.Equal(["00000", "00001", "00002", "00003"], keys);
    }

    [Fact]
    public async Task A_5xx_is_retried_and_the_run_goes_on()
    {
        agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).InScenario("flaky").WillSetStateTo("failed once")
            .RespondWith(Response.Create().WithStatusCode(503));
        agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).InScenario("flaky").WhenStateIs("failed once").WillSetStateTo("failed twice")
            .RespondWith(Response.Create().WithStatusCode(500));
        agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).InScenario("flaky").WhenStateIs("failed twice")
            .RespondWith(Response.Create().WithBody(Page(0, 3)));

        var keys = await FetchKeysAsync(Definition(new PagingDefinition()));

        Assert.Equal(3, keys.Count);
        Assert.Equal(3, agency.LogEntries.Count);
    }

    [Fact]
    public async Task A_5xx_that_persists_fails_with_the_status_after_the_retries()
    {
        agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).RespondWith(Response.Create().WithStatusCode(502));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => FetchKeysAsync(Definition(new PagingDefinition())));

        Assert.Contains("HTTP 502", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, agency.LogEntries.Count);
    }

    [Fact]
    public async Task A_client_error_is_not_retried()
    {
        agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).RespondWith(Response.Create().WithStatusCode(404));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => FetchKeysAsync(Definition(new PagingDefinition())));

        Assert.Contains("HTTP 404", error.Message, StringComparison.Ordinal);
        Assert.Single(agency.LogEntries);
    }

    [Fact]
    public async Task An_html_page_with_status_200_fails_the_fetch_with_a_clear_message()
    {
        agency.Given(Request.Create().WithPath("/api/wards").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "text/html").WithBody("<html><body>Lỗi hệ thống</body></html>"));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => FetchKeysAsync(Definition(new PagingDefinition())));

        Assert.Contains("did not return valid JSON (text/html)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_record_path_that_leads_nowhere_fails_the_fetch()
    {
        agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).RespondWith(Response.Create().WithBody("""{"items":[]}"""));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => FetchKeysAsync(Definition(new PagingDefinition())));

        Assert.Contains("record_path '$.data'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_page_larger_than_the_limit_is_refused()
    {
        agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).RespondWith(Response.Create().WithBody(Page(0, 10_000)));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => FetchKeysAsync(Definition(new PagingDefinition())));

        Assert.Contains("page limit of 100000 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paging_that_never_ends_stops_at_max_pages()
    {
        agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).RespondWith(Response.Create().WithBody(Page(0, 2)));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() =>
            FetchKeysAsync(Definition(new PagingDefinition { Style = PagingStyle.Offset, PageSize = 2, MaxPages = 5 })));

        Assert.Contains("more than 5 pages", error.Message, StringComparison.Ordinal);
        Assert.Equal(5, agency.LogEntries.Count);
    }

    [Fact]
    public async Task Each_page_carries_its_url_status_and_payload_hash()
    {
        var body = Page(0, 1);
        agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).RespondWith(Response.Create().WithBody(body));

        await foreach (var page in Source.FetchAsync(Definition(new PagingDefinition()), CancellationToken.None))
        {
            using (page)
            {
                Assert.Equal(200, page.StatusCode);
                Assert.Equal($"{agency.Url}/api/wards?province=58", page.Url.ToString());
                Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(body))), page.PayloadSha256);
            }
        }
    }

    [Fact]
    public async Task A_page_read_in_several_chunks_keeps_every_byte_in_order()
    {
        // About 94 KB with the limit at 100,000 bytes: a full chunk of 64 KB and part of a second.
        var body = Page(0, 5_500);
        Assert.InRange(body.Length, 81_921, 100_000);
        agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).RespondWith(Response.Create().WithBody(body));

        var pages = 0;
        await foreach (var page in Source.FetchAsync(Definition(new PagingDefinition()), CancellationToken.None))
        {
            using (page)
            {
                pages++;
                Assert.Equal(System.Text.Encoding.UTF8.GetBytes(body), page.Payload);
                Assert.Equal(5_500, page.Records.Count);
                Assert.Equal("05499", page.Records[^1].GetProperty("ma_xa").GetString());
            }
        }

        Assert.Equal(1, pages);
    }
}
