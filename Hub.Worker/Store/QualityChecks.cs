using System.Text.Json;
using Dapper;
using Hub.Worker.Telemetry;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>Settings of the quality checks (section <c>Quality</c>).</summary>
public sealed class QualityOptions
{
    public const string SectionName = "Quality";

    /// <summary>Alarm when a run leaves fewer rows than this share of the previous version's (0.2: a drop of more than 20 %).</summary>
    public double RowDropAlarm { get; set; } = 0.2;
}

/// <summary>The quality of one run along the regulation's words (Art. 4.1): correct, complete, clean; "live" is freshness.</summary>
public sealed record RunQuality(QualityCorrect Correct, QualityComplete Complete, QualityClean Clean);

/// <summary>
/// Schema validity, and codes that must exist in a reference dataset (<c>"x-reference": "&lt;dataset id&gt;"</c> on a
/// property): per property, how many current rows of the dataset after the run (changed or not) hold a code that is not
/// a current key of the reference dataset.
/// </summary>
public sealed record QualityCorrect(long Fetched, long Valid, long Quarantined, double ValidRate, IReadOnlyDictionary<string, long> ReferenceViolations);

/// <summary>Row count against the previous version, with the drop alarm.</summary>
public sealed record QualityComplete(long RowCount, long PreviousRowCount, bool RowDropAlarm);

/// <summary>Keys repeated in the source, blank text values and values with surrounding spaces.</summary>
public sealed record QualityClean(long DuplicateKeys, long BlankValues, long UntrimmedValues);

/// <summary>
/// Computes and stores a run's quality inside the transaction that publishes it. The row-count drop alarm is also
/// logged as a warning and counted in the metric <c>hub.quality.row_drop_alarms</c>.
/// </summary>
internal static partial class QualityChecks
{
    public static async Task<RunQuality> RecordAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        Guid runId,
        string datasetId,
        (long Fetched, long Valid, long Quarantined, long Duplicates) counts,
        (long Current, long Previous) rows,
        QualityOptions options,
        DateTimeOffset now,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        // Only properties stored as columns: a personal-data field marked 'drop' publishes no value to check.
        var references = await connection.QueryAsync<(string Column, string OwnTable, string? Table)>(new CommandDefinition(
            """
            select p.key, d.table_name, r.table_name
            from hub.datasets d
            cross join lateral jsonb_each(d.schema_json->'properties') p
            join information_schema.columns c on c.table_schema = 'open_data' and c.table_name = d.table_name and c.column_name = p.key
            left join hub.datasets r on r.id = p.value->>'x-reference'
            where d.id = @datasetId and p.value ? 'x-reference'
            """, new { datasetId }, transaction, cancellationToken: cancellationToken));
        var violations = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (column, ownTable, table) in references)
        {
            // Every current row, including those the run found unchanged (staged without JSON): one anti-join on the
            // reference's keys. An unknown reference dataset counts every value as a violation rather than hiding the check.
            var value = $"t.{DatasetRegistry.Quote(column)}";
            violations[column] = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                $"""
                select count(*) from {DatasetRegistry.QualifiedTable(ownTable)} t
                where t._version_to is null and {value} is not null
                {(table is null ? string.Empty : $"and not exists (select 1 from {DatasetRegistry.QualifiedTable(table)} r where r._key = {value}::text and r._version_to is null)")}
                """, transaction: transaction, cancellationToken: cancellationToken));
        }

        var clean = await connection.QuerySingleAsync<(long Blank, long Untrimmed)>(new CommandDefinition(
            "select coalesce(sum(blank_values), 0), coalesce(sum(untrimmed_values), 0) from hub.run_batches where run_id = @runId",
            new { runId }, transaction, cancellationToken: cancellationToken));
        var rowDrop = rows.Previous > 0 && rows.Current < rows.Previous * (1 - options.RowDropAlarm);
        var quality = new RunQuality(
            new QualityCorrect(counts.Fetched, counts.Valid, counts.Quarantined, counts.Fetched == 0 ? 1 : Math.Round((double)counts.Valid / counts.Fetched, 4), violations),
            new QualityComplete(rows.Current, rows.Previous, rowDrop),
            new QualityClean(counts.Duplicates, clean.Blank, clean.Untrimmed));
        if (rowDrop)
        {
            HubTelemetry.RowDropAlarms.Add(1, new KeyValuePair<string, object?>("dataset", datasetId));
            LogRowDrop(logger, datasetId, runId, rows.Current, rows.Previous, options.RowDropAlarm);
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.run_quality (run_id, dataset_id, checks, created_at) values (@runId, @datasetId, @checks::jsonb, @now)
            on conflict (run_id) do nothing
            """, new { runId, datasetId, checks = JsonSerializer.Serialize(quality, JsonSerializerOptions.Web), now }, transaction, cancellationToken: cancellationToken));
        return quality;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Row-count drop alarm on {DatasetId}: run {RunId} leaves {RowCount} rows, the version before had {PreviousRowCount} (alarm above a drop of {Threshold:P0}, Quality:RowDropAlarm)")]
    private static partial void LogRowDrop(ILogger logger, string datasetId, Guid runId, long rowCount, long previousRowCount, double threshold);
}
