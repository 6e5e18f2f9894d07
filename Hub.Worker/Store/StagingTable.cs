using System.Buffers;
using Dapper;
using Hub.Core.Messages;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>
/// The staging table of a run: <c>staging."run_&lt;id&gt;"</c>, UNLOGGED, created on the run's first batch with the data
/// columns of the dataset's table (same names and types) plus <c>_key</c>, <c>_hash</c>, <c>_sequence</c> (batch),
/// <c>_ordinal</c> (place in the batch) and <c>_changed</c> (false for a record the connector found unchanged: its data
/// columns are empty and the published row is kept) and <c>_deleted</c> (true for the deletion of a key the agency marked
/// deleted: its data columns are empty and the published row ends). The connector loads typed rows with COPY, so the merge copies
/// columns instead of converting JSON. Dropped when the run ends, either way.
/// </summary>
public static class StagingTable
{
    /// <summary>How many bytes of rows <see cref="CopyAsync"/> gathers before it writes them to the COPY stream.</summary>
    private const int CopyChunkBytes = 32 * 1024;

    /// <summary>The qualified name of a run's staging table.</summary>
    public static string Of(Guid runId) => $"staging.{DatasetRegistry.Quote("run_" + runId.ToString("N"))}";

    /// <summary>The data columns of a run's staging table (in table order, with whether each is jsonb); empty when it does not exist.</summary>
    public static async Task<IReadOnlyList<TableColumn>> ColumnsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, CancellationToken cancellationToken) =>
        (await DatasetRegistry.TableColumnsAsync(connection, transaction, Of(runId), cancellationToken)).Where(c => !c.IsSystem).ToList();

    /// <summary>The data columns of a run's staging table, creating it like <paramref name="tableName"/> on the run's first batch.</summary>
    public static async Task<IReadOnlyList<TableColumn>> EnsureAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, string tableName, CancellationToken cancellationToken)
    {
        var columns = await ColumnsAsync(connection, transaction, runId, cancellationToken);
        if (columns.Count > 0)
        {
            return columns;
        }

        var table = DatasetRegistry.QualifiedTable(tableName);
        var data = (await DatasetRegistry.TableColumnsAsync(connection, transaction, table, cancellationToken)).Where(c => !c.IsSystem);
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            create unlogged table {Of(runId)} as
            select {string.Concat(data.Select(c => DatasetRegistry.Quote(c.Name) + ", "))}_key, _hash, 0 as _sequence, 0 as _ordinal, true as _changed, false as _deleted
            from {table} with no data
            """, transaction: transaction, cancellationToken: cancellationToken));
        return await ColumnsAsync(connection, transaction, runId, cancellationToken);
    }

    /// <summary>
    /// Drops the staging tables no running run owns and returns their names. A run drops its table in the transaction
    /// that ends it; one left over comes from a store restored from a backup taken mid-run, or a run ended by hand.
    /// </summary>
    public static async Task<IReadOnlyList<string>> DropLeftOverAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var runs = await connection.QueryAsync<Guid>(new CommandDefinition(
            """
            select substr(c.relname, 5)::uuid from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'staging' and c.relkind = 'r' and c.relname ~ '^run_[0-9a-f]{32}$'
              and not exists (select 1 from hub.runs r where r.id = substr(c.relname, 5)::uuid and r.status = 'running')
            """, cancellationToken: cancellationToken));
        var dropped = new List<string>();
        foreach (var runId in runs)
        {
            await connection.ExecuteAsync(new CommandDefinition($"drop table if exists {Of(runId)}", cancellationToken: cancellationToken));
            dropped.Add(Of(runId));
        }

        return dropped;
    }

    /// <summary>Drops a run's staging table, if it has one.</summary>
    public static Task DropAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition($"drop table if exists {Of(runId)}", transaction: transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// Loads the valid records of a batch as typed rows with COPY (text format), written by <see cref="CopyTextRows"/>
    /// from each record's canonical JSON: each top-level property goes to the column of its name, as PostgreSQL's
    /// <c>jsonb_populate_record</c> would convert it (a string's text, any other value's JSON text; a jsonb column takes
    /// the JSON value itself); a property without a column (none: records are projected onto the schema) is ignored, a
    /// column without a property is null.
    /// </summary>
    public static async Task CopyAsync(NpgsqlConnection connection, Guid runId, IReadOnlyList<TableColumn> columns, int sequence, IReadOnlyList<ValidRecord> records, CancellationToken cancellationToken)
    {
        var rows = new CopyTextRows(columns);
        var names = string.Concat(columns.Select(c => DatasetRegistry.Quote(c.Name) + ", "));
        await using var writer = (NpgsqlCopyTextWriter)await connection.BeginTextImportAsync($"copy {Of(runId)} ({names}_key, _hash, _sequence, _ordinal, _changed, _deleted) from stdin", cancellationToken);
        // The rows go to the COPY stream under the text writer as UTF-8 bytes, some rows at a time (a whole batch would be
        // a large object for every batch); the writer itself is given no text, and ends the COPY when disposed.
        var stream = writer.BaseStream;
        var buffer = new ArrayBufferWriter<byte>(CopyChunkBytes + 4096);
        for (var ordinal = 0; ordinal < records.Count; ordinal++)
        {
            rows.Write(buffer, records[ordinal], sequence, ordinal);
            if (buffer.WrittenCount >= CopyChunkBytes)
            {
                await stream.WriteAsync(buffer.WrittenMemory, cancellationToken);
                buffer.ResetWrittenCount();
            }
        }

        await stream.WriteAsync(buffer.WrittenMemory, cancellationToken);
    }
}
