namespace Hub.Worker.Scheduling;

/// <summary>Settings of the Quartz scheduler that drives polled connectors (section <c>Scheduling</c>).</summary>
public sealed class SchedulingOptions
{
    public const string SectionName = "Scheduling";

    /// <summary>Run a dataset at once when it has never been published, instead of waiting for its first cron time.</summary>
    public bool SyncNewDatasetsAtStart { get; set; } = true;

    /// <summary>Runs executed at once by this worker.</summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>
    /// How long an idle worker waits before looking for due runs again, e.g. "run now" stored by the API: a "run now"
    /// starts within about this long. Each look is one small query on the job store.
    /// </summary>
    public TimeSpan IdleWaitTime { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a worker checks in with the cluster; a silent worker's runs are recovered by another.</summary>
    public TimeSpan ClusterCheckinInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Consecutive failed runs after which a connector pauses its own schedule (0: never).</summary>
    public int PauseAfterFailures { get; set; } = 5;
}
