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
    /// Loads the valid records of a batch as typed rows with COPY, written by <see cref="CopyRows"/> from each record's
    /// canonical JSON: each top-level property goes to the column of its name, as PostgreSQL's
    /// <c>jsonb_populate_record</c> would convert it (a string's text, any other value's JSON text; a jsonb column takes
    /// the JSON value itself); a property without a column (none: records are projected onto the schema) is ignored, a
    /// column without a property is null. In binary format when <paramref name="binary"/>, the columns' types allow it and
    /// the batch's first row has a binary form, else in text. Throws <see cref="NoBinaryFormException"/>, with the COPY
    /// cancelled (which aborts the transaction), when a later value has none: the caller stages the batch again, in text.
    /// </summary>
    public static async Task CopyAsync(NpgsqlConnection connection, Guid runId, IReadOnlyList<TableColumn> columns, int sequence, IReadOnlyList<ValidRecord> records, bool binary, CancellationToken cancellationToken)
    {
        var rows = new CopyRows(columns);
        var copy = $"copy {Of(runId)} ({string.Concat(columns.Select(c => DatasetRegistry.Quote(c.Name) + ", "))}_key, _hash, _sequence, _ordinal, _changed, _deleted) from stdin";
        // The rows go to the COPY stream as bytes, some rows at a time (a whole batch would be a large object for every
        // batch).
        var buffer = new ArrayBufferWriter<byte>(CopyChunkBytes + 4096);
        if (binary && rows.HasBinaryForm && records.Count > 0)
        {
            // The first row decides: a dataset whose values have no binary form goes to text without a COPY to cancel.
            buffer.Write(CopyRows.BinaryHeader);
            if (rows.TryWriteBinary(buffer, records[0], sequence, 0))
            {
                await using var stream = await connection.BeginRawBinaryCopyAsync($"{copy} (format binary)", cancellationToken);
                try
                {
                    for (var ordinal = 1; ordinal < records.Count; ordinal++)
                    {
                        await FlushAsync(stream, buffer, CopyChunkBytes, cancellationToken);
                        if (!rows.TryWriteBinary(buffer, records[ordinal], sequence, ordinal))
                        {
                            throw new NoBinaryFormException(runId, sequence);
                        }
                    }

                    buffer.Write(CopyRows.BinaryTrailer);
                    await FlushAsync(stream, buffer, 0, cancellationToken);
                }
                catch
                {
                    // Ended without its trailer the COPY would fail with an error of its own, in place of this one.
                    await stream.CancelAsync();
                    throw;
                }

                return;
            }

            buffer.ResetWrittenCount();
        }

        // The text writer is given no text: the rows go to its base stream, and disposing it ends the COPY.
        await using var writer = (NpgsqlCopyTextWriter)await connection.BeginTextImportAsync(copy, cancellationToken);
        for (var ordinal = 0; ordinal < records.Count; ordinal++)
        {
            rows.WriteText(buffer, records[ordinal], sequence, ordinal);
            await FlushAsync(writer.BaseStream, buffer, CopyChunkBytes, cancellationToken);
        }

        await FlushAsync(writer.BaseStream, buffer, 0, cancellationToken);
    }

    /// <summary>Writes the buffered rows to the COPY stream once they are <paramref name="atLeast"/> bytes.</summary>
    private static async ValueTask FlushAsync(Stream stream, ArrayBufferWriter<byte> buffer, int atLeast, CancellationToken cancellationToken)
    {
        if (buffer.WrittenCount >= atLeast)
        {
            await stream.WriteAsync(buffer.WrittenMemory, cancellationToken);
            buffer.ResetWrittenCount();
        }
    }
}

/// <summary>A value of a staged batch has no binary form (<see cref="CopyBinaryValues"/>): the batch is staged in text.</summary>
public sealed class NoBinaryFormException(Guid runId, int sequence)
    : Exception($"run {runId}, batch {sequence}: a value has no binary form; the batch is staged in COPY's text format");
