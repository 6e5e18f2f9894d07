using Hub.Core.Messages;
using Hub.Worker.Store;
using Hub.Worker.Telemetry;
using MassTransit;

namespace Hub.Worker.Messaging;

/// <summary>Shared by the writer's consumers: publish the run when it is complete, then announce the new version.</summary>
internal static class RunFinalization
{
    public static async Task TryPublishAsync(SnapshotWriter writer, ConsumeContext context, Guid runId)
    {
        using var activity = HubTelemetry.Source.StartActivity("finalize run");
        activity?.SetTag("hub.run", runId);
        var published = await writer.TryFinalizeAsync(runId, context.CancellationToken);
        if (published is not null)
        {
            activity?.SetTag("hub.version", published.Version);
            await PublishRecordChangesAsync(writer, context, published);
            await context.Publish(published, context.CancellationToken);
        }
    }

    /// <summary>Sends the version's record changes in parts, before the version's own event.</summary>
    private static async Task PublishRecordChangesAsync(SnapshotWriter writer, ConsumeContext context, DatasetVersionPublished published)
    {
        const int partSize = 500;
        var total = published.Inserted + published.Updated + published.Deleted;
        var parts = (int)((total + partSize - 1) / partSize);
        var part = 0;
        var changes = new List<RecordChangeEvent>(partSize);
        await foreach (var change in writer.StreamVersionChangesAsync(published.DatasetId, published.Version, context.CancellationToken))
        {
            changes.Add(new RecordChangeEvent(change.Op, change.Key, change.Record));
            if (changes.Count == partSize)
            {
                await PublishPartAsync(++part);
            }
        }

        if (changes.Count > 0)
        {
            await PublishPartAsync(++part);
        }

        async Task PublishPartAsync(int number)
        {
            await context.Publish(
                new RecordChangesPublished(
                    "1.0",
                    RecordChangesPublished.IdOf(published.DatasetId, published.Version, number),
                    RecordChangesPublished.SourceOf(published.DatasetId),
                    RecordChangesPublished.EventType,
                    published.PublishedAt,
                    published.DatasetId,
                    published.Version,
                    published.RunId,
                    number,
                    parts,
                    changes.ToList()),
                context.CancellationToken);
            changes.Clear();
        }
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
