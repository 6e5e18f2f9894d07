using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>Settings of the store's housekeeping (section <c>Store</c>).</summary>
public sealed class StoreOptions
{
    public const string SectionName = "Store";

    /// <summary>How long raw payloads are kept for lineage; the hash stays on the run's requests after that.</summary>
    public TimeSpan PayloadRetention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>
    /// Longest a store command may run (the writer's merge of a large run takes minutes), unless the connection
    /// string sets its own <c>Command Timeout</c>.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>A run with no progress (no page fetched, no batch staged) for this long is failed as abandoned.</summary>
    public TimeSpan AbandonRunAfter { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// A published version whose change events are still unsent this long after its publication (the worker sending
    /// them stopped) has them sent by the housekeeping sweep.
    /// </summary>
    public TimeSpan ResendEventsAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Memory each sort or hash of the writer's publishing transaction may use (PostgreSQL <c>work_mem</c>, set for that
    /// transaction only): the merge of a large run joins, sorts and digests every staged row, and spills to disk below it.
    /// </summary>
    public string MergeWorkMemory { get; set; } = "256MB";
}

/// <summary>
/// Fails runs abandoned by a worker that stopped mid-run (their staged records are dropped, the published
/// version is untouched), drops staging tables left by runs that are no longer running, and removes raw payloads past
/// their retention.
/// </summary>
public sealed partial class Housekeeping(NpgsqlDataSource dataSource, IOptions<StoreOptions> options, TimeProvider time, ILogger<Housekeeping> logger)
{
    public async Task<(int AbandonedRuns, int OrphanedStagingTables, int ExpiredPayloads)> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var settings = options.Value;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var stale = (await connection.QueryAsync<Guid>(new CommandDefinition(
            """
            select r.id from hub.runs r
            where r.status = 'running'
              and greatest(r.started_at,
                           (select max(b.staged_at) from hub.run_batches b where b.run_id = r.id),
                           (select max(q.fetched_at) from hub.run_requests q where q.run_id = r.id)) < @cutoff
            """, new { cutoff = now - settings.AbandonRunAfter }, cancellationToken: cancellationToken))).AsList();
        foreach (var runId in stale)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await RunStore.MarkFailedAsync(connection, transaction, runId,
                $"abandoned: no progress for {settings.AbandonRunAfter.TotalMinutes:0} minutes (the worker running it stopped); the published version is unchanged",
                now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            LogAbandoned(logger, runId);
        }

        var orphans = await StagingTable.DropLeftOverAsync(connection, cancellationToken);
        foreach (var table in orphans)
        {
            LogOrphanDropped(logger, table);
        }

        var expired = await connection.ExecuteAsync(new CommandDefinition(
            "delete from hub.payloads where stored_at < @cutoff", new { cutoff = now - settings.PayloadRetention }, cancellationToken: cancellationToken));
        return (stale.Count, orphans.Count, expired);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} was abandoned mid-run and is now failed; its staged records were dropped")]
    private static partial void LogAbandoned(ILogger logger, Guid runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped the staging table {Table}: no running run owns it")]
    private static partial void LogOrphanDropped(ILogger logger, string table);
}
