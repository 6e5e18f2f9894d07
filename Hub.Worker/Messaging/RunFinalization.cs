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
        string? after = null;
        for (var part = 1; part <= parts; part++)
        {
            var changes = await writer.ReadVersionChangesAsync(published.DatasetId, published.Version, after, partSize, context.CancellationToken);
            after = changes[^1].Key;
            await context.Publish(
                new RecordChangesPublished(
                    "1.0",
                    RecordChangesPublished.IdOf(published.DatasetId, published.Version, part),
                    RecordChangesPublished.SourceOf(published.DatasetId),
                    RecordChangesPublished.EventType,
                    published.PublishedAt,
                    published.DatasetId,
                    published.Version,
                    published.RunId,
                    part,
                    parts,
                    changes.Select(c => new RecordChangeEvent(c.Op, c.Key, c.Record)).ToList()),
                context.CancellationToken);
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
