using System.Buffers;
using System.Text;
using System.Text.Json;
using Dapper;
using Hub.Core.Messages;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>
/// The staging table of a run: <c>staging."run_&lt;id&gt;"</c>, UNLOGGED, created on the run's first batch with the data
/// columns of the dataset's table (same names and types) plus <c>_key</c>, <c>_hash</c>, <c>_sequence</c> (batch),
/// <c>_ordinal</c> (place in the batch) and <c>_changed</c> (false for a record the connector found unchanged: its data
/// columns are empty and the published row is kept). The connector loads typed rows with COPY, so the merge copies
/// columns instead of converting JSON. Dropped when the run ends, either way.
/// </summary>
public static class StagingTable
{
    private static readonly SearchValues<char> CopySpecial = SearchValues.Create("\\\t\n\r");

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
            select {string.Concat(data.Select(c => DatasetRegistry.Quote(c.Name) + ", "))}_key, _hash, 0 as _sequence, 0 as _ordinal, true as _changed
            from {table} with no data
            """, transaction: transaction, cancellationToken: cancellationToken));
        return await ColumnsAsync(connection, transaction, runId, cancellationToken);
    }

    /// <summary>Drops a run's staging table, if it has one.</summary>
    public static Task DropAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition($"drop table if exists {Of(runId)}", transaction: transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// Loads the valid records of a batch as typed rows with COPY (text format): each top-level property of a record's
    /// JSON goes to the column of its name, as PostgreSQL's <c>jsonb_populate_record</c> would convert it (a string's
    /// text, any other value's JSON text; a jsonb column takes the JSON value itself); a property without a column
    /// (none: records are projected onto the schema) is ignored, a column without a property is null.
    /// </summary>
    public static async Task CopyAsync(NpgsqlConnection connection, Guid runId, IReadOnlyList<TableColumn> columns, int sequence, IReadOnlyList<ValidRecord> records, CancellationToken cancellationToken)
    {
        var index = new Dictionary<string, int>(columns.Count, StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
        {
            index[columns[i].Name] = i;
        }

        // Row by row into the COPY stream (a whole batch of text would be a large object for every batch).
        var names = string.Concat(columns.Select(c => DatasetRegistry.Quote(c.Name) + ", "));
        await using var writer = await connection.BeginTextImportAsync($"copy {Of(runId)} ({names}_key, _hash, _sequence, _ordinal, _changed) from stdin", cancellationToken);
        var text = new StringBuilder(1024);
        var values = new JsonElement?[columns.Count];
        for (var ordinal = 0; ordinal < records.Count; ordinal++)
        {
            var record = records[ordinal];
            text.Clear();
            if (record.Json is null)
            {
                for (var i = 0; i < columns.Count; i++)
                {
                    text.Append("\\N\t");
                }
            }
            else
            {
                using var document = JsonDocument.Parse(record.Json);
                Array.Clear(values);
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (index.TryGetValue(property.Name, out var at))
                    {
                        values[at] = property.Value;
                    }
                }

                for (var i = 0; i < columns.Count; i++)
                {
                    AppendValue(text, values[i], columns[i].IsJson);
                    text.Append('\t');
                }
            }

            AppendEscaped(text, record.Key);
            text.Append('\t');
            text.Append(record.Hash).Append('\t');
            text.Append(sequence).Append('\t').Append(ordinal).Append('\t').Append(record.Json is null ? 'f' : 't').Append('\n');
            await writer.WriteAsync(text, cancellationToken);
        }
    }

    private static void AppendValue(StringBuilder text, JsonElement? value, bool isJson)
    {
        switch (value)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                text.Append("\\N");
                break;
            case { ValueKind: JsonValueKind.String } s when !isJson:
                AppendEscaped(text, s.GetString()!);
                break;
            case { } other:
                AppendEscaped(text, other.GetRawText());
                break;
        }
    }

    /// <summary>A value in COPY's text format: backslash, tab, newline and carriage return escaped.</summary>
    private static void AppendEscaped(StringBuilder text, string value)
    {
        var rest = value.AsSpan();
        for (var at = rest.IndexOfAny(CopySpecial); at >= 0; at = rest.IndexOfAny(CopySpecial))
        {
            text.Append(rest[..at]).Append('\\').Append(rest[at] switch
            {
                '\t' => 't',
                '\n' => 'n',
                '\r' => 'r',
                _ => '\\',
            });
            rest = rest[(at + 1)..];
        }

        text.Append(rest);
    }
}
