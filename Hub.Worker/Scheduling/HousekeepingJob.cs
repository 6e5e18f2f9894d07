using Hub.Worker.Store;
using Quartz;

namespace Hub.Worker.Scheduling;

/// <summary>Runs the store's housekeeping every few minutes, once across the cluster.</summary>
[DisallowConcurrentExecution]
public sealed class HousekeepingJob(Housekeeping housekeeping) : IJob
{
    public static readonly JobKey Key = new("housekeeping", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await housekeeping.RunAsync(cancellationToken);
}
