using System.Net;
using System.Net.Http.Json;
using Hub.Api.Connectors;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class AutoPauseTests(HubFixture hub)
{
    private async Task<ConnectorStatus> StatusAsync(string dataset) =>
        (await hub.Api.GetFromJsonAsync<List<ConnectorStatus>>("/api/connectors"))!.Single(c => c.DatasetId == dataset);

    [Fact]
    public async Task A_connector_pauses_itself_after_five_consecutive_failures_says_why_and_resume_clears_it()
    {
        // A broken answer (HTML with status 200) fails the run without retries, so the agency's circuit stays closed.
        TestAgency.Fail(hub.Agency, "it-autopause", 200, "<html><body>Bảo trì</body></html>");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("failed", (await hub.SyncAsync("it-autopause")).Status);
        }

        var before = await StatusAsync("it-autopause");
        Assert.Equal(("normal", 4L, (string?)null), (before.State, before.ConsecutiveFailures, before.PausedReason));

        Assert.Equal("failed", (await hub.SyncAsync("it-autopause")).Status);

        var paused = await StatusAsync("it-autopause");
        Assert.Equal("paused", paused.State);
        Assert.Contains("after 5 consecutive failed runs", paused.PausedReason, StringComparison.Ordinal);
        Assert.Contains("/api/connectors/it-autopause/resume", paused.PausedReason, StringComparison.Ordinal);
        Assert.Contains(hub.Logs.Lines, l => l.Contains("Connector it-autopause paused itself after 5 consecutive failed runs", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.NoContent, (await hub.OperatorApi.PostAsync("/api/connectors/it-autopause/resume", null)).StatusCode);
        var resumed = await StatusAsync("it-autopause");
        Assert.Equal(("normal", (string?)null), (resumed.State, resumed.PausedReason));

        // The count starts again after a resume: one more failure does not pause it at once.
        Assert.Equal("failed", (await hub.SyncAsync("it-autopause")).Status);
        Assert.Equal(("normal", (string?)null), ((await StatusAsync("it-autopause")).State, (await StatusAsync("it-autopause")).PausedReason));
    }
}
