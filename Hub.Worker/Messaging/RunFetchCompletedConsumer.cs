using Hub.Core.Messages;
using Hub.Worker.Store;
using MassTransit;

namespace Hub.Worker.Messaging;

/// <summary>Records the end of a run's fetch and publishes the run if every batch is already staged.</summary>
public sealed class RunFetchCompletedConsumer(SnapshotWriter writer, VersionEvents events) : IConsumer<RunFetchCompleted>
{
    public async Task Consume(ConsumeContext<RunFetchCompleted> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await writer.MarkFetchedAsync(context.Message, context.CancellationToken);
        await RunFinalization.TryPublishAsync(writer, events, context, context.Message.RunId);
    }
}

public sealed class RunFetchCompletedConsumerDefinition : ConsumerDefinition<RunFetchCompletedConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<RunFetchCompletedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        ArgumentNullException.ThrowIfNull(endpointConfigurator);
        WriterEndpoint.Configure(endpointConfigurator);
    }
}
