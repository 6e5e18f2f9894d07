using Hub.Worker.Store;
using Hub.Worker.Telemetry;
using MassTransit;

namespace Hub.Worker.Messaging;

/// <summary>
/// Shared by the writer's consumers: publish the run when it is complete, then send the change events of its
/// dataset's unsent versions (this run's, or an earlier send that failed: a message retry finds the run over and
/// sends what is still unsent).
/// </summary>
internal static class RunFinalization
{
    public static async Task TryPublishAsync(SnapshotWriter writer, VersionEvents events, ConsumeContext context, Guid runId)
    {
        using var activity = HubTelemetry.Source.StartActivity("finalize run");
        activity?.SetTag("hub.run", runId);
        var version = await writer.TryFinalizeAsync(runId, context.CancellationToken);
        activity?.SetTag("hub.version", version);
        await events.SendForRunAsync(runId, context, context.CancellationToken);
    }
}

/// <summary>Receive-endpoint settings of the writer: quorum queues, retries with backoff for transient store errors.</summary>
internal static class WriterEndpoint
{
    public static void Configure(IReceiveEndpointConfigurator endpoint)
    {
        endpoint.UseMessageRetry(retry => retry.Exponential(8, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(300)));
        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }
    }
}
