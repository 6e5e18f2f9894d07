using Dapper;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>
/// The incremental-sync cursor of each dataset (<c>hub.sync_cursors</c>). The writer advances it when it publishes a
/// run; operators clear it (the next run is a full refresh) or set it (backfill from a point in time), each change with
/// its audit event in the same transaction.
/// </summary>
public sealed class SyncCursors(NpgsqlDataSource dataSource, TimeProvider time, AuditChain audit)
{
    public async Task<string?> GetAsync(string datasetId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select cursor from hub.sync_cursors where dataset_id = @datasetId", new { datasetId }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Forgets the cursor, for the operator <paramref name="by"/> (audit event <c>reset</c>): the next run is a full
    /// refresh (and deletes what the agency no longer sends).
    /// </summary>
    public async Task ResetAsync(string datasetId, string by, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from hub.sync_cursors where dataset_id = @datasetId", new { datasetId }, transaction, cancellationToken: cancellationToken));
        await audit.AppendEventAsync(connection, transaction, "reset", datasetId, new { by }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Sets the cursor, for the operator <paramref name="by"/> (audit event <c>backfill</c>): the next run asks for the
    /// records since <paramref name="cursor"/> (minus the look-back).
    /// </summary>
    public async Task SetAsync(string datasetId, string cursor, string by, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.sync_cursors (dataset_id, cursor, run_id, updated_at) values (@datasetId, @cursor, null, @now)
            on conflict (dataset_id) do update set cursor = excluded.cursor, run_id = null, updated_at = excluded.updated_at
            """, new { datasetId, cursor, now = time.GetUtcNow() }, transaction, cancellationToken: cancellationToken));
        await audit.AppendEventAsync(connection, transaction, "backfill", datasetId, new { from = cursor, by }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
