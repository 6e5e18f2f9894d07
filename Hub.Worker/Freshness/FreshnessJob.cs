using Hub.Core.Freshness;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Quartz;

namespace Hub.Worker.Freshness;

/// <summary>The Quartz job that evaluates the obligations; one at a time across the cluster.</summary>
[DisallowConcurrentExecution]
public sealed class FreshnessJob(FreshnessNotifier notifier) : IJob
{
    public static readonly JobKey Key = new("evaluate", "freshness");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await notifier.NotifyAsync(cancellationToken);
}

/// <summary>Schedules <see cref="FreshnessJob"/> in the clustered Quartz store every <see cref="FreshnessOptions.EvaluationInterval"/>.</summary>
public sealed class FreshnessJobScheduler(ISchedulerFactory schedulerFactory, IOptions<FreshnessOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken);
        var job = JobBuilder.Create<FreshnessJob>().WithIdentity(FreshnessJob.Key).WithDescription("Freshness obligations (Art. 4.6)").StoreDurably().Build();
        var trigger = TriggerBuilder.Create()
            .WithIdentity(FreshnessJob.Key.Name, FreshnessJob.Key.Group)
            .ForJob(job)
            .StartNow()
            .WithSimpleSchedule(s => s.WithInterval(options.Value.EvaluationInterval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
            .Build();
        await scheduler.ScheduleJob(job, new[] { trigger }, new ScheduleJobOptions { Replace = true }, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
