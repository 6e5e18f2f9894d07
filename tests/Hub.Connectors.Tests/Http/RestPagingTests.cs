using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hub.Connectors.Http;
using Hub.Core.Catalog;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Hub.Connectors.Tests.Http;

public sealed class RestPagingTests : IDisposable
{
    private readonly AgencyHost host = new();

    public void Dispose() => host.Dispose();

    private static string Records(int from, int count, object? extra = null)
    {
        var page = new Dictionary<string, object?>
        {
            ["data"] = Enumerable.Range(from, count).Select(i => new { ma_xa = i.ToString("00000", CultureInfo.InvariantCulture) }),
        };
        foreach (var property in extra?.GetType().GetProperties() ?? [])
        {
            page[property.Name] = property.GetValue(extra);
        }

        return JsonSerializer.Serialize(page);
    }

    private RestSourceDefinition Source(PagingDefinition paging) => new()
    {
        Url = host.Url("/api/wards?province=58"),
        RecordPath = "$.data",
        Paging = paging,
        Timeout = TimeSpan.FromSeconds(10),
    };

    [Fact]
    public async Task Cursor_paging_sends_the_token_from_the_body_until_there_is_none()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").WithParam("province", "58").WithParam("after", "c2").UsingGet())
            .AtPriority(1).RespondWith(Response.Create().WithBody(Records(4, 1, new { meta = new { next = (string?)null } })));
        host.Agency.Given(Request.Create().WithPath("/api/wards").WithParam("after", "c1").UsingGet())
            .AtPriority(2).RespondWith(Response.Create().WithBody(Records(2, 2, new { meta = new { next = "c2" } })));
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet())
            .AtPriority(10).RespondWith(Response.Create().WithBody(Records(0, 2, new { meta = new { next = "c1" } })));

        var keys = await host.FetchFieldAsync(Source(new PagingDefinition { Style = PagingStyle.Cursor, CursorPath = "$.meta.next", CursorParameter = "after" }), "ma_xa");

        Assert.Equal(["00000", "00001", "00002", "00003", "00004"], keys);
        Assert.Equal(3, host.Agency.LogEntries.Count);
    }

    [Fact]
    public async Task Next_url_paging_follows_relative_and_absolute_links_from_the_body()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards/p3").UsingGet())
            .RespondWith(Response.Create().WithBody(Records(4, 1, new { links = new { next = "" } })));
        host.Agency.Given(Request.Create().WithPath("/api/wards/p2").UsingGet())
            .RespondWith(Response.Create().WithBody(Records(2, 2, new { links = new { next = $"{host.Agency.Url}/api/wards/p3" } })));
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet())
            .RespondWith(Response.Create().WithBody(Records(0, 2, new { links = new { next = "/api/wards/p2" } })));

        var keys = await host.FetchFieldAsync(Source(new PagingDefinition { Style = PagingStyle.NextUrl, NextPath = "$.links.next" }), "ma_xa");

        Assert.Equal(5, keys.Count);
    }

    [Fact]
    public async Task Link_header_paging_follows_rel_next_until_it_is_absent()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").WithParam("page", "2").UsingGet()).AtPriority(1)
            .RespondWith(Response.Create().WithHeader("Link", $"<{host.Agency.Url}/api/wards?page=1>; rel=\"prev\"").WithBody(Records(2, 1)));
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).AtPriority(5)
            .RespondWith(Response.Create().WithHeader("Link", $"<{host.Agency.Url}/api/wards?page=2>; rel=\"next\", <{host.Agency.Url}/api/wards?page=9>; rel=\"last\"").WithBody(Records(0, 2)));

        var keys = await host.FetchFieldAsync(Source(new PagingDefinition { Style = PagingStyle.LinkHeader }), "ma_xa");

        Assert.Equal(["00000", "00001", "00002"], keys);
    }

    [Fact]
    public async Task Paging_stops_when_the_total_in_the_body_is_reached()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet())
            .RespondWith(Response.Create().WithBody(Records(0, 3, new { total = 3 })));

        var keys = await host.FetchFieldAsync(Source(new PagingDefinition { Style = PagingStyle.Offset, PageSize = 3, TotalPath = "$.total" }), "ma_xa");

        Assert.Equal(3, keys.Count);
        Assert.Single(host.Agency.LogEntries);
    }

    [Fact]
    public async Task A_next_link_that_points_back_fails_instead_of_looping()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet())
            .RespondWith(Response.Create().WithBody(Records(0, 1, new { links = new { next = "/api/wards?province=58" } })));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => host.FetchAllAsync(Source(new PagingDefinition { Style = PagingStyle.NextUrl, NextPath = "$.links.next" })));

        Assert.Contains("paging would never end", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_endless_chain_of_new_next_links_stops_at_max_pages()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet())
            .RespondWith(Response.Create().WithBody("{\"data\":[{\"ma_xa\":\"1\"}],\"next\":\"/api/wards?n={{request.query.n}}1\"}").WithTransformer());

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => host.FetchAllAsync(Source(new PagingDefinition { Style = PagingStyle.NextUrl, NextPath = "$.next", MaxPages = 4 })));

        Assert.Contains("more than 4 pages", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, host.Agency.LogEntries.Count);
    }

    [Fact]
    public async Task Truncated_json_fails_the_fetch_with_the_parser_message()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody("{\"data\":[{\"ma_xa\":\"22738\"},{\"ma_x"));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => host.FetchAllAsync(Source(new PagingDefinition())));

        Assert.Contains("did not return valid JSON (application/json)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_content_type_fails_the_fetch_and_names_the_type()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/xml").WithBody("<data><ma_xa>22738</ma_xa></data>"));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => host.FetchAllAsync(Source(new PagingDefinition())));

        Assert.Contains("(application/xml)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_mislabelled_as_text_is_still_read()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "text/html; charset=utf-8").WithBody(Records(0, 2)));

        Assert.Equal(2, (await host.FetchFieldAsync(Source(new PagingDefinition()), "ma_xa")).Count);
    }

    [Fact]
    public async Task A_429_with_retry_after_is_waited_out_then_retried()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).InScenario("busy").WillSetStateTo("waited")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "1"));
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).InScenario("busy").WhenStateIs("waited")
            .RespondWith(Response.Create().WithBody(Records(0, 2)));
        var clock = Stopwatch.StartNew();

        var keys = await host.FetchFieldAsync(Source(new PagingDefinition()), "ma_xa");

        Assert.Equal(2, keys.Count);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {clock.Elapsed}, before Retry-After");
        var requests = host.Agency.LogEntries.OrderBy(e => e.RequestMessage.DateTime).ToList();
        Assert.Equal(2, requests.Count);
        Assert.True(requests[1].RequestMessage.DateTime - requests[0].RequestMessage.DateTime >= TimeSpan.FromSeconds(0.9));
    }

    [Fact]
    public async Task An_agency_slower_than_the_attempt_timeout_fails_after_the_retries()
    {
        using var slow = new AgencyHost(new() { ["Connectors:AttemptTimeout"] = "00:00:00.200", ["Connectors:MaxRetries"] = "1" });
        slow.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet())
            .RespondWith(Response.Create().WithBody(Records(0, 1)).WithDelay(TimeSpan.FromSeconds(2)));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => slow.FetchAllAsync(new RestSourceDefinition { Url = slow.Url("/api/wards"), RecordPath = "$.data" }));

        Assert.Contains("did not answer within the attempt timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_circuit_opens_after_repeated_failures_and_later_requests_fail_fast()
    {
        using var failing = new AgencyHost(new() { ["Connectors:MaxRetries"] = "0", ["Connectors:CircuitMinimumThroughput"] = "2", ["Connectors:CircuitFailureRatio"] = "0.5" });
        failing.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));
        var source = new RestSourceDefinition { Url = failing.Url("/api/wards"), RecordPath = "$.data", Agency = new AgencyEndpoint("SXD", RateLimitDefinition.Unlimited) };

        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<AgencyResponseException>(() => failing.FetchAllAsync(source));
        }

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => failing.FetchAllAsync(source));
        Assert.Contains("circuit of agency SXD is open", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, failing.Agency.LogEntries.Count);

        var other = source with { Agency = new AgencyEndpoint("SNV", RateLimitDefinition.Unlimited) };
        var otherError = await Assert.ThrowsAsync<AgencyResponseException>(() => failing.FetchAllAsync(other));
        Assert.Contains("HTTP 503", otherError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_agency_rate_limit_spaces_requests_out()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").UsingGet()).RespondWith(Response.Create().WithBody(Records(0, 1)));
        var source = Source(new PagingDefinition()) with { Agency = new AgencyEndpoint("SCT", new RateLimitDefinition(RequestsPerSecond: 2, ConcurrentRequests: 1)) };
        var clock = Stopwatch.StartNew();

        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => host.FetchAllAsync(source)));

        Assert.Equal(5, host.Agency.LogEntries.Count);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.4), $"5 requests at 2 per second took only {clock.Elapsed}");
    }
}
