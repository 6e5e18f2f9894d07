using System.Text.Json;
using Hub.Core.Catalog;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Hub.Connectors.Tests.Http;

public sealed class ODataSourceTests : IDisposable
{
    private readonly AgencyHost host = new();

    public void Dispose() => host.Dispose();

    private static string Collection(IEnumerable<string> codes, string? nextLink = null)
    {
        var body = new Dictionary<string, object> { ["@odata.context"] = "$metadata#Wards", ["value"] = codes.Select(c => new { MaXa = c, TenXa = "Xã " + c }) };
        if (nextLink is not null)
        {
            body["@odata.nextLink"] = nextLink;
        }

        return JsonSerializer.Serialize(body);
    }

    [Fact]
    public async Task Server_paging_follows_odata_nextLink_with_filter_and_select_on_the_first_request()
    {
        host.Agency.Given(Request.Create().WithPath("/odata/Wards").WithParam("$skiptoken", "2").UsingGet()).AtPriority(1)
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json;odata.metadata=minimal").WithBody(Collection(["22750"])));
        host.Agency.Given(Request.Create().WithPath("/odata/Wards").WithParam("$filter", "MaTinh eq '58'").WithParam("$select", "MaXa,TenXa").UsingGet()).AtPriority(5)
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(Collection(["22738", "22741"], $"{host.Agency.Url}/odata/Wards?$skiptoken=2")));

        var codes = await host.FetchFieldAsync(new ODataSourceDefinition { Url = host.Url("/odata/Wards"), Filter = "MaTinh eq '58'", Select = "MaXa,TenXa" }, "MaXa");

        Assert.Equal(["22738", "22741", "22750"], codes);
        Assert.All(host.Agency.LogEntries, e => Assert.Equal("4.0", e.RequestMessage.Headers!["OData-Version"].ToString()));
    }

    [Fact]
    public async Task Without_a_next_link_top_and_skip_page_until_a_short_page()
    {
        host.Agency.Given(Request.Create().WithPath("/odata/Wards").WithParam("$skip", "0").WithParam("$top", "2").UsingGet())
            .RespondWith(Response.Create().WithBody(Collection(["1", "2"])));
        host.Agency.Given(Request.Create().WithPath("/odata/Wards").WithParam("$skip", "2").WithParam("$top", "2").UsingGet())
            .RespondWith(Response.Create().WithBody(Collection(["3"])));

        var codes = await host.FetchFieldAsync(new ODataSourceDefinition { Url = host.Url("/odata/Wards"), PageSize = 2 }, "MaXa");

        Assert.Equal(["1", "2", "3"], codes);
    }

    [Fact]
    public async Task A_response_without_a_value_array_fails_clearly()
    {
        host.Agency.Given(Request.Create().WithPath("/odata/Wards").UsingGet()).RespondWith(Response.Create().WithBody("""{"error":{"code":"500","message":"oops"}}"""));

        var error = await Assert.ThrowsAsync<Hub.Connectors.Http.AgencyResponseException>(() => host.FetchAllAsync(new ODataSourceDefinition { Url = host.Url("/odata/Wards") }));

        Assert.Contains("no 'value' array", error.Message, StringComparison.Ordinal);
    }
}
