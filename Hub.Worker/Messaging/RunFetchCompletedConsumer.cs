using Hub.Core.Messages;
using Hub.Worker.Store;
using Hub.Worker.Telemetry;
using MassTransit;

namespace Hub.Worker.Messaging;

/// <summary>
/// Records the end of a run's fetch and publishes the run (its batches are staged already: the connector stages each
/// one before it announces the end), then sends the change events of the dataset's unsent versions: this run's, or
/// those of an earlier send that failed (a message retry finds the run over and sends what is still unsent).
/// </summary>
public sealed class RunFetchCompletedConsumer(SnapshotWriter writer, VersionEvents events) : IConsumer<RunFetchCompleted>
{
    public async Task Consume(ConsumeContext<RunFetchCompleted> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var runId = context.Message.RunId;
        await writer.MarkFetchedAsync(context.Message, context.CancellationToken);
        using var activity = HubTelemetry.Source.StartActivity("finalize run");
        activity?.SetTag("hub.run", runId);
        activity?.SetTag("hub.version", await writer.TryFinalizeAsync(runId, context.CancellationToken));
        await events.SendForRunAsync(runId, context, context.CancellationToken);
    }
}

/// <summary>The writer's receive endpoint: quorum queue, retries with backoff for transient store errors.</summary>
public sealed class RunFetchCompletedConsumerDefinition : ConsumerDefinition<RunFetchCompletedConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<RunFetchCompletedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        ArgumentNullException.ThrowIfNull(endpointConfigurator);
        endpointConfigurator.UseMessageRetry(retry => retry.Exponential(8, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(300)));
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }
    }
}
