using System.Collections.Concurrent;
using System.Diagnostics;
using Hub.Connectors;
using Hub.Worker.Telemetry;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class TracingTests(HubFixture hub)
{
    [Fact]
    public async Task A_run_is_traced_through_fetch_publish_consume_and_write()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is HubTelemetry.Name or ConnectorTelemetry.Name or "MassTransit",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        TestAgency.Serve(hub.Agency, "it-traced", Enumerable.Range(1, 10).Select(i => (object)TestAgency.Ward(i)).ToList());

        var run = await hub.SyncAsync("it-traced");

        // The writer's "finalize run" span ends after the run's change events are sent, a moment after the run is over,
        // and the consumer span around it ends after it.
        bool Ended() =>
            spans.Any(s => s.OperationName == "finalize run" && Equals(s.GetTagItem("hub.run"), run.Id)) &&
            spans.Any(s => s.Source.Name == "MassTransit" && s.Kind == ActivityKind.Consumer &&
                           spans.Any(sync => sync.OperationName == "sync dataset" && Equals(sync.GetTagItem("hub.run"), run.Id) && sync.TraceId == s.TraceId));
        for (var waited = 0; waited < 300 && !Ended(); waited++)
        {
            await Task.Delay(100);
        }

        var ofRun = spans.Where(s => Equals(s.GetTagItem("hub.run"), run.Id)).Select(s => s.OperationName).ToHashSet();
        Assert.Superset(new HashSet<string> { "sync dataset", "stage batch", "finalize run" }, ofRun);
        var sync = spans.Single(s => s.OperationName == "sync dataset" && Equals(s.GetTagItem("hub.run"), run.Id));
        Assert.Contains(spans, s => s.OperationName == "stage batch" && s.ParentSpanId == sync.SpanId);
        var fetches = spans.Where(s => s.OperationName == "fetch page" && s.TraceId == sync.TraceId).ToList();
        Assert.NotEmpty(fetches);
        Assert.All(fetches, fetch => Assert.StartsWith($"{hub.Agency.Url}/it-traced", (string?)fetch.GetTagItem("url.full"), StringComparison.Ordinal));
        Assert.Contains(spans, s => s.Source.Name == "MassTransit" && s.TraceId == sync.TraceId && s.Kind == ActivityKind.Consumer);
    }
}
