using Hub.Worker.Messaging;
using Hub.Worker.Store;
using MassTransit;
using Microsoft.Extensions.Options;
using Quartz;

namespace Hub.Worker.Scheduling;

/// <summary>
/// Runs the store's housekeeping every few minutes, once across the cluster, then sends the change events of
/// versions a stopped worker left unsent.
/// </summary>
[DisallowConcurrentExecution]
public sealed class HousekeepingJob(Housekeeping housekeeping, VersionEvents events, IBus bus, IOptions<StoreOptions> options) : IJob
{
    public static readonly JobKey Key = new("housekeeping", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        await housekeeping.RunAsync(cancellationToken);
        await events.SweepAsync(bus, options.Value.ResendEventsAfter, cancellationToken);
    }
}
