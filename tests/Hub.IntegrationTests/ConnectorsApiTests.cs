using System.Net;
using System.Net.Http.Json;
using Hub.Api.Connectors;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class ConnectorsApiTests(HubFixture hub)
{
    private async Task<ConnectorStatus> StatusAsync(string dataset) =>
        (await hub.Api.GetFromJsonAsync<List<ConnectorStatus>>("/api/connectors"))!.Single(c => c.DatasetId == dataset);

    [Fact]
    public async Task Operators_see_each_connector_and_can_run_pause_and_resume_it()
    {
        var before = await StatusAsync("it-manual");
        Assert.Equal(("normal", "TEST", 0L), (before.State, before.AgencyCode, before.ConsecutiveFailures));
        Assert.Equal(new DateTimeOffset(2099, 1, 1, 3, 0, 0, TimeSpan.FromHours(7)), before.NextRunAt);
        TestAgency.Serve(hub.Agency, "it-manual", Enumerable.Range(1, 4).Select(i => (object)TestAgency.Ward(i)).ToList());

        var accepted = await hub.OperatorApi.PostAsync("/api/connectors/it-manual/run", null);

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var run = await hub.WaitForLatestRunAsync("it-manual");
        Assert.Equal(("manual", "succeeded", 4L), (run.Trigger, run.Status, run.Inserted));
        Assert.Equal(run.Id, (await StatusAsync("it-manual")).LastRun!.Id);

        TestAgency.Fail(hub.Agency, "it-manual", 500);
        await hub.SyncAsync("it-manual");
        await hub.SyncAsync("it-manual");
        Assert.Equal(2L, (await StatusAsync("it-manual")).ConsecutiveFailures);

        Assert.Equal(HttpStatusCode.NoContent, (await hub.OperatorApi.PostAsync("/api/connectors/it-manual/pause", null)).StatusCode);
        Assert.Equal("paused", (await StatusAsync("it-manual")).State);
        Assert.Equal(HttpStatusCode.NoContent, (await hub.OperatorApi.PostAsync("/api/connectors/it-manual/resume", null)).StatusCode);
        Assert.Equal("normal", (await StatusAsync("it-manual")).State);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.OperatorApi.PostAsync("/api/connectors/nope/run", null)).StatusCode);
    }
}
