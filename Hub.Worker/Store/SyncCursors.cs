using Dapper;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>
/// The incremental-sync cursor of each dataset (<c>hub.sync_cursors</c>). The writer advances it when it publishes a
/// run; operators clear it (the next run is a full refresh) or set it (backfill from a point in time).
/// </summary>
public sealed class SyncCursors(NpgsqlDataSource dataSource, TimeProvider time)
{
    public async Task<string?> GetAsync(string datasetId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select cursor from hub.sync_cursors where dataset_id = @datasetId", new { datasetId }, cancellationToken: cancellationToken));
    }

    /// <summary>Forgets the cursor: the next run is a full refresh (and deletes what the agency no longer sends).</summary>
    public async Task ResetAsync(string datasetId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from hub.sync_cursors where dataset_id = @datasetId", new { datasetId }, cancellationToken: cancellationToken));
    }

    /// <summary>Sets the cursor: the next run asks for the records since <paramref name="cursor"/> (minus the look-back).</summary>
    public async Task SetAsync(string datasetId, string cursor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.sync_cursors (dataset_id, cursor, run_id, updated_at) values (@datasetId, @cursor, null, @now)
            on conflict (dataset_id) do update set cursor = excluded.cursor, run_id = null, updated_at = excluded.updated_at
            """, new { datasetId, cursor, now = time.GetUtcNow() }, cancellationToken: cancellationToken));
    }
}
