using System.Diagnostics;
using Hub.Core.Messages;
using Hub.Worker.Store;
using Hub.Worker.Telemetry;
using MassTransit;

namespace Hub.Worker.Messaging;

/// <summary>Stages a fetched batch (once, however often it is delivered) and publishes the run if it was the last piece.</summary>
public sealed class RecordBatchFetchedConsumer(SnapshotWriter writer, VersionEvents events) : IConsumer<RecordBatchFetched>
{
    public async Task Consume(ConsumeContext<RecordBatchFetched> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var batch = context.Message;
        using (var activity = HubTelemetry.Source.StartActivity("stage batch"))
        {
            activity?.SetTag("hub.run", batch.RunId);
            activity?.SetTag("hub.batch", batch.Sequence);
            var started = Stopwatch.GetTimestamp();
            await writer.StageAsync(batch, context.CancellationToken);
            HubTelemetry.BatchWriteSeconds.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        await RunFinalization.TryPublishAsync(writer, events, context, batch.RunId);
    }
}

public sealed class RecordBatchFetchedConsumerDefinition : ConsumerDefinition<RecordBatchFetchedConsumer>
{
    public RecordBatchFetchedConsumerDefinition()
    {
        ConcurrentMessageLimit = 4;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<RecordBatchFetchedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        ArgumentNullException.ThrowIfNull(endpointConfigurator);
        WriterEndpoint.Configure(endpointConfigurator);
    }
}
