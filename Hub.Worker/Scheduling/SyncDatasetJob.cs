using Hub.Worker.Store;
using Quartz;

namespace Hub.Worker.Scheduling;

/// <summary>The Quartz job of one dataset. Never runs twice at once for a dataset, across the whole cluster.</summary>
[DisallowConcurrentExecution]
public sealed class SyncDatasetJob(DatasetSync sync) : IJob
{
    public const string Group = "datasets";
    public const string DatasetKey = "dataset";
    public const string TriggerKey = "trigger";

    public static JobKey KeyFor(string datasetId) => new(datasetId, Group);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var datasetId = context.MergedJobDataMap.GetString(DatasetKey) ?? context.JobDetail.Key.Name;
        var trigger = Enum.TryParse<RunTrigger>(context.MergedJobDataMap.GetString(TriggerKey), ignoreCase: true, out var t) ? t : RunTrigger.Schedule;
        await sync.RunAsync(datasetId, trigger, cancellationToken);
    }
}
