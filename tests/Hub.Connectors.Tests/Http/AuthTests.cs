using System.Text;
using Hub.Connectors.Http;
using Hub.Core.Catalog;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Hub.Connectors.Tests.Http;

public sealed class AuthTests : IDisposable
{
    private const string Page = """{"data":[{"ma_xa":"22738"}]}""";

    private readonly AgencyHost host = new(fakeClock: true);

    public void Dispose() => host.Dispose();

    private RestSourceDefinition Source(AuthDefinition auth, string query = "") =>
        new() { Url = host.Url("/api/wards" + query), RecordPath = "$.data", Auth = auth };

    [Fact]
    public async Task An_api_key_goes_in_its_header()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").WithHeader("X-Agency-Key", "k-123")).RespondWith(Response.Create().WithBody(Page));

        var keys = await host.FetchFieldAsync(Source(new AuthDefinition { Kind = AuthKind.ApiKey, Header = "X-Agency-Key", Token = new Secret("k-123") }), "ma_xa");

        Assert.Single(keys);
    }

    [Fact]
    public async Task An_api_key_in_the_query_is_sent_but_redacted_from_the_recorded_url_and_errors()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").WithParam("api_key", "k-123").WithParam("province", "58")).RespondWith(Response.Create().WithBody(Page));
        var source = Source(new AuthDefinition { Kind = AuthKind.ApiKey, QueryParameter = "api_key", Token = new Secret("k-123") }, "?province=58");

        var pages = await host.FetchAllAsync(source);

        using var page = Assert.Single(pages);
        Assert.Equal($"{host.Agency.Url}/api/wards?province=58&api_key=***", page.Url.ToString());
        Assert.DoesNotContain("k-123", page.Url.ToString(), StringComparison.Ordinal);

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => host.FetchAllAsync(source with { Url = host.Url("/missing?province=58") }));
        Assert.Contains("api_key=***", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("k-123", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_never_print_in_definitions()
    {
        var auth = new AuthDefinition { Kind = AuthKind.OAuth2, ClientId = "hub", ClientSecret = new Secret("s3cr3t"), Token = new Secret("t0k3n") };
        var text = Source(auth).ToString();

        Assert.DoesNotContain("s3cr3t", text, StringComparison.Ordinal);
        Assert.DoesNotContain("t0k3n", text, StringComparison.Ordinal);
        Assert.Contains("***", text, StringComparison.Ordinal);
        Assert.Equal("https://a.test/x?key=***&token=***&page=2", UrlRedaction.Redact(new Uri("https://a.test/x?key=1&token=2&page=2")).ToString());
        Assert.Equal("https://user:***@a.test/", UrlRedaction.Redact(new Uri("https://user:pw@a.test/")).ToString());
    }

    [Fact]
    public async Task A_bearer_token_goes_in_the_authorization_header()
    {
        host.Agency.Given(Request.Create().WithPath("/api/wards").WithHeader("Authorization", "Bearer t-1")).RespondWith(Response.Create().WithBody(Page));

        Assert.Single(await host.FetchFieldAsync(Source(new AuthDefinition { Kind = AuthKind.Bearer, Token = new Secret("t-1") }), "ma_xa"));
    }

    [Fact]
    public async Task Basic_auth_sends_user_and_password()
    {
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("hub:pa:ss"));
        host.Agency.Given(Request.Create().WithPath("/api/wards").WithHeader("Authorization", expected)).RespondWith(Response.Create().WithBody(Page));

        Assert.Single(await host.FetchFieldAsync(Source(new AuthDefinition { Kind = AuthKind.Basic, Username = "hub", Password = new Secret("pa:ss") }), "ma_xa"));
    }

    [Fact]
    public async Task An_oauth2_token_is_fetched_once_reused_and_fetched_again_before_it_expires()
    {
        host.Agency.Given(Request.Create().WithPath("/connect/token").UsingPost()
                .WithBody(b => b!.Contains("grant_type=client_credentials", StringComparison.Ordinal) && b.Contains("client_secret=s3cr3t", StringComparison.Ordinal)))
            .InScenario("tokens").WillSetStateTo("second")
            .RespondWith(Response.Create().WithBody("""{"access_token":"tok-1","token_type":"Bearer","expires_in":3600}"""));
        host.Agency.Given(Request.Create().WithPath("/connect/token").UsingPost()).InScenario("tokens").WhenStateIs("second")
            .RespondWith(Response.Create().WithBody("""{"access_token":"tok-2","token_type":"Bearer","expires_in":3600}"""));
        host.Agency.Given(Request.Create().WithPath("/api/wards").WithHeader("Authorization", "Bearer tok-1")).RespondWith(Response.Create().WithBody(Page));
        host.Agency.Given(Request.Create().WithPath("/api/wards").WithHeader("Authorization", "Bearer tok-2")).RespondWith(Response.Create().WithBody("""{"data":[{"ma_xa":"NEW"}]}"""));
        var source = Source(new AuthDefinition { Kind = AuthKind.OAuth2, TokenUrl = host.Url("/connect/token"), ClientId = "hub", ClientSecret = new Secret("s3cr3t"), Scope = "read" });

        Assert.Equal(["22738"], await host.FetchFieldAsync(source, "ma_xa"));
        host.Clock.Advance(TimeSpan.FromMinutes(50));
        Assert.Equal(["22738"], await host.FetchFieldAsync(source, "ma_xa"));
        Assert.Single(host.Agency.LogEntries, e => e.RequestMessage.Path == "/connect/token");

        host.Clock.Advance(TimeSpan.FromMinutes(9.5));
        Assert.Equal(["NEW"], await host.FetchFieldAsync(source, "ma_xa"));
        Assert.Equal(2, host.Agency.LogEntries.Count(e => e.RequestMessage.Path == "/connect/token"));
    }

    [Fact]
    public async Task A_refused_oauth2_token_is_fetched_again_and_the_request_sent_once_more()
    {
        host.Agency.Given(Request.Create().WithPath("/connect/token").UsingPost()).InScenario("revoked").WillSetStateTo("second")
            .RespondWith(Response.Create().WithBody("""{"access_token":"tok-1","expires_in":3600}"""));
        host.Agency.Given(Request.Create().WithPath("/connect/token").UsingPost()).InScenario("revoked").WhenStateIs("second")
            .RespondWith(Response.Create().WithBody("""{"access_token":"tok-2","expires_in":3600}"""));
        host.Agency.Given(Request.Create().WithPath("/api/wards").WithHeader("Authorization", "Bearer tok-1")).RespondWith(Response.Create().WithStatusCode(401));
        host.Agency.Given(Request.Create().WithPath("/api/wards").WithHeader("Authorization", "Bearer tok-2")).RespondWith(Response.Create().WithBody(Page));
        var source = Source(new AuthDefinition { Kind = AuthKind.OAuth2, TokenUrl = host.Url("/connect/token"), ClientId = "hub", ClientSecret = new Secret("s3cr3t") });

        Assert.Equal(["22738"], await host.FetchFieldAsync(source, "ma_xa"));
        Assert.Equal(["22738"], await host.FetchFieldAsync(source, "ma_xa")); // the new token is cached

        Assert.Equal(2, host.Agency.LogEntries.Count(e => e.RequestMessage.Path == "/connect/token"));
        Assert.Equal(["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"], host.Agency.LogEntries.Where(e => e.RequestMessage.Path == "/api/wards")
            .Select(e => e.RequestMessage.Headers!["Authorization"].Single()));
    }

    [Fact]
    public async Task An_agency_that_refuses_every_oauth2_token_fails_the_fetch_after_one_new_token()
    {
        host.Agency.Given(Request.Create().WithPath("/connect/token").UsingPost())
            .RespondWith(Response.Create().WithBody("""{"access_token":"tok","expires_in":3600}"""));
        host.Agency.Given(Request.Create().WithPath("/api/wards")).RespondWith(Response.Create().WithStatusCode(401));
        var source = Source(new AuthDefinition { Kind = AuthKind.OAuth2, TokenUrl = host.Url("/connect/token"), ClientId = "hub", ClientSecret = new Secret("s3cr3t") });

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => host.FetchAllAsync(source));

        Assert.Contains("answered HTTP 401", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, host.Agency.LogEntries.Count(e => e.RequestMessage.Path == "/connect/token"));
        Assert.Equal(2, host.Agency.LogEntries.Count(e => e.RequestMessage.Path == "/api/wards"));
    }
}
