using Hub.Connectors.Configuration;
using Hub.Core.Time;
using Hub.Worker.Catalog;
using Hub.Worker.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;

namespace Hub.Worker.Scheduling;

/// <summary>
/// At start: registers every catalogue dataset in the store (typed table included) and gives it a Quartz job
/// with a cron trigger in Vietnam time; a dataset never synced yet runs at once. When <c>connectors.d/</c>
/// changes (hot reload), only the datasets added or changed are scheduled again and removed ones unscheduled. A
/// dataset blocked by a breaking schema change has no job; one its file classifies secret is withdrawn.
/// </summary>
public sealed partial class ConnectorScheduler(
    HubCatalog catalog,
    DatasetRegistry registry,
    AutoPause autoPause,
    ISchedulerFactory schedulerFactory,
    IOptions<SchedulingOptions> options,
    ILogger<ConnectorScheduler> logger) : IHostedService, ICatalogChangeHandler
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken);
        var scheduled = new HashSet<JobKey>();
        foreach (var entry in catalog.Entries)
        {
            if (await ScheduleAsync(scheduler, entry, cancellationToken) is { } key)
            {
                scheduled.Add(key);
            }
        }

        foreach (var secret in catalog.Secret)
        {
            await WithdrawAsync(scheduler, secret.SecretDatasetId!, secret, cancellationToken);
        }

        if (catalog.Errors.Count == 0)
        {
            // Only with a clean catalogue: a dataset missing because its file is broken keeps its job.
            foreach (var stale in (await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(SyncDatasetJob.Group), cancellationToken)).Except(scheduled))
            {
                await scheduler.DeleteJob(stale, cancellationToken);
                LogUnscheduled(logger, stale.Name);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Hot reload: schedules the added and changed datasets again, unschedules the removed ones; others are untouched.</summary>
    public async Task OnCatalogChangedAsync(CatalogChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken);
        foreach (var entry in change.Changed)
        {
            await ScheduleAsync(scheduler, entry, cancellationToken);
        }

        foreach (var secret in catalog.Secret.Where(e => change.Withdrawn.Contains(e.SecretDatasetId!)))
        {
            await WithdrawAsync(scheduler, secret.SecretDatasetId!, secret, cancellationToken);
        }

        foreach (var removed in change.Removed)
        {
            if (await scheduler.DeleteJob(SyncDatasetJob.KeyFor(removed), cancellationToken))
            {
                LogUnscheduled(logger, removed);
            }
        }
    }

    private async Task<JobKey?> ScheduleAsync(IScheduler scheduler, CatalogEntry entry, CancellationToken cancellationToken)
    {
        var dataset = entry.Dataset;
        try
        {
            await registry.RegisterAsync(entry.Agency, dataset, cancellationToken);
        }
        catch (BreakingSchemaChangeException e)
        {
            // Blocked until the change is undone or a new schema version is declared: no scheduled run meanwhile.
            await scheduler.DeleteJob(SyncDatasetJob.KeyFor(dataset.Id), cancellationToken);
            LogNotScheduled(logger, dataset.Id, e.Message);
            return null;
        }

        var job = JobBuilder.Create<SyncDatasetJob>()
            .WithIdentity(SyncDatasetJob.KeyFor(dataset.Id))
            .WithDescription(dataset.Title)
            .UsingJobData(SyncDatasetJob.DatasetKey, dataset.Id)
            .StoreDurably()
            .RequestRecovery()
            .Build();
        var trigger = TriggerBuilder.Create()
            .WithIdentity(dataset.Id, SyncDatasetJob.Group)
            .ForJob(job)
            .WithCronSchedule(dataset.Schedule, cron => cron.InTimeZone(VietnamTime.Zone).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
            .Build();
        var wasPaused = await scheduler.GetTriggerState(trigger.Key, cancellationToken) == TriggerState.Paused;
        await scheduler.ScheduleJob(job, new[] { trigger }, new ScheduleJobOptions { Replace = true }, cancellationToken);
        var paused = wasPaused || await autoPause.IsPausedAsync(dataset.Id, cancellationToken);
        if (paused)
        {
            // Replacing the trigger un-pauses it: a paused connector stays paused until resumed.
            await scheduler.PauseJob(job.Key, cancellationToken);
        }

        if (!paused && options.Value.SyncNewDatasetsAtStart && await registry.NeedsInitialSyncAsync(dataset.Id, cancellationToken))
        {
            await scheduler.TriggerJob(job.Key, new JobDataMap(), cancellationToken);
        }

        LogScheduled(logger, dataset.Id, dataset.Schedule);
        return job.Key;
    }

    /// <summary>A dataset its file now classifies secret: unscheduled and withdrawn from the public read APIs.</summary>
    private async Task WithdrawAsync(IScheduler scheduler, string datasetId, ConfigError refusal, CancellationToken cancellationToken)
    {
        await scheduler.DeleteJob(SyncDatasetJob.KeyFor(datasetId), cancellationToken);
        var reason = $"{Path.GetFileName(refusal.File)} classifies it secret: {refusal.Message}";
        if (await registry.WithdrawAsync(datasetId, reason, cancellationToken))
        {
            LogWithdrawn(logger, datasetId, reason);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Withdrew {DatasetId}: it is unscheduled and no longer served, because {Reason}")]
    private static partial void LogWithdrawn(ILogger logger, string datasetId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled {DatasetId} with cron '{Schedule}' (Asia/Ho_Chi_Minh)")]
    private static partial void LogScheduled(ILogger logger, string datasetId, string schedule);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unscheduled {DatasetId}: it is no longer in connectors.d")]
    private static partial void LogUnscheduled(ILogger logger, string datasetId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dataset {DatasetId} is not scheduled: {Reason}")]
    private static partial void LogNotScheduled(ILogger logger, string datasetId, string reason);
}
