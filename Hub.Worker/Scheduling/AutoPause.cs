using System.Globalization;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;

namespace Hub.Worker.Scheduling;

/// <summary>
/// A connector that failed <see cref="SchedulingOptions.PauseAfterFailures"/> runs in a row pauses its own Quartz
/// job and records why (shown in <c>GET /api/connectors</c> as <c>pausedReason</c>) instead of hammering a sick
/// agency API; <c>POST /api/connectors/{dataset}/resume</c> clears the reason and restarts the count. Only
/// scheduled and manual runs count (a failed push is the agency's answer, not the connector's).
/// </summary>
public sealed partial class AutoPause(
    NpgsqlDataSource dataSource,
    ISchedulerFactory schedulers,
    IOptions<SchedulingOptions> options,
    TimeProvider time,
    ILogger<AutoPause> logger)
{
    /// <summary>Called after a failed run: pauses the connector when it reached the limit. Returns true when it paused.</summary>
    public async Task<bool> AfterFailureAsync(string datasetId, CancellationToken cancellationToken)
    {
        var limit = options.Value.PauseAfterFailures;
        if (limit <= 0)
        {
            return false;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var (failures, lastError) = await connection.QuerySingleAsync<(long, string?)>(new CommandDefinition(
            """
            select count(*), (array_agg(f.error order by f.started_at desc))[1]
            from hub.runs f
            where f.dataset_id = @datasetId and f.status = 'failed' and f.trigger in ('schedule', 'manual')
              and f.started_at > greatest(
                  coalesce((select max(s.started_at) from hub.runs s
                            where s.dataset_id = @datasetId and s.status = 'succeeded' and s.trigger in ('schedule', 'manual')), '-infinity'),
                  coalesce((select p.resumed_at from hub.connector_pauses p where p.dataset_id = @datasetId), '-infinity'))
            """, new { datasetId }, cancellationToken: cancellationToken));
        if (failures < limit)
        {
            return false;
        }

        var reason = string.Create(CultureInfo.InvariantCulture,
            $"paused itself after {failures} consecutive failed runs (Scheduling:PauseAfterFailures = {limit}); last error: {lastError}. Fix the cause, then POST /api/connectors/{datasetId}/resume");
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.connector_pauses (dataset_id, paused_reason, paused_at) values (@datasetId, @reason, @now)
            on conflict (dataset_id) do update set paused_reason = excluded.paused_reason, paused_at = excluded.paused_at
            """, new { datasetId, reason, now = time.GetUtcNow() }, cancellationToken: cancellationToken));
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.PauseJob(SyncDatasetJob.KeyFor(datasetId), cancellationToken);
        LogPaused(logger, datasetId, failures, limit, lastError);
        return true;
    }

    /// <summary>Whether the connector paused itself and was not resumed since (a restart keeps it paused).</summary>
    public async Task<bool> IsPausedAsync(string datasetId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from hub.connector_pauses where dataset_id = @datasetId and paused_reason is not null)",
            new { datasetId }, cancellationToken: cancellationToken));
    }

    /// <summary>An operator resumed the connector: the reason goes and failures are counted from now.</summary>
    public static async Task ClearAsync(NpgsqlDataSource dataSource, string datasetId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.connector_pauses (dataset_id, resumed_at) values (@datasetId, @now)
            on conflict (dataset_id) do update set paused_reason = null, paused_at = null, resumed_at = excluded.resumed_at
            """, new { datasetId, now }, cancellationToken: cancellationToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connector {DatasetId} paused itself after {Failures} consecutive failed runs (limit {Limit}); last error: {LastError}. Resume it with POST /api/connectors/{DatasetId}/resume")]
    private static partial void LogPaused(ILogger logger, string datasetId, long failures, int limit, string? lastError);
}
