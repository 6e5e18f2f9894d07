using System.Text.Json;
using Dapper;
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

/// <summary>Schema validity, and codes that must exist in a reference dataset (<c>"x-reference": "&lt;dataset id&gt;"</c> on a property).</summary>
public sealed record QualityCorrect(long Fetched, long Valid, long Quarantined, double ValidRate, IReadOnlyDictionary<string, long> ReferenceViolations);

/// <summary>Row count against the previous version, with the drop alarm.</summary>
public sealed record QualityComplete(long RowCount, long PreviousRowCount, bool RowDropAlarm);

/// <summary>Keys repeated in the source, blank text values and values with surrounding spaces.</summary>
public sealed record QualityClean(long DuplicateKeys, long BlankValues, long UntrimmedValues);

/// <summary>Computes and stores a run's quality inside the transaction that publishes it.</summary>
internal static class QualityChecks
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
        CancellationToken cancellationToken)
    {
        var references = await connection.QueryAsync<(string Column, string Dataset, string? Table)>(new CommandDefinition(
            """
            select p.key, p.value->>'x-reference', r.table_name
            from hub.datasets d
            cross join lateral jsonb_each(d.schema_json->'properties') p
            left join hub.datasets r on r.id = p.value->>'x-reference'
            where d.id = @datasetId and p.value ? 'x-reference'
            """, new { datasetId }, transaction, cancellationToken: cancellationToken));
        var violations = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (column, _, table) in references)
        {
            // An unknown reference dataset counts every value as a violation rather than hiding the check.
            violations[column] = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                table is null
                    ? "select count(*) from incoming i where i.record->>@column is not null"
                    : $"""
                      select count(*) from incoming i
                      where i.record->>@column is not null
                        and not exists (select 1 from {DatasetRegistry.QualifiedTable(table)} r where r._key = i.record->>@column and r._version_to is null)
                      """, new { column }, transaction, cancellationToken: cancellationToken));
        }

        var clean = await connection.QuerySingleAsync<(long Blank, long Untrimmed)>(new CommandDefinition(
            "select coalesce(sum(blank_values), 0), coalesce(sum(untrimmed_values), 0) from hub.run_batches where run_id = @runId",
            new { runId }, transaction, cancellationToken: cancellationToken));
        var quality = new RunQuality(
            new QualityCorrect(counts.Fetched, counts.Valid, counts.Quarantined, counts.Fetched == 0 ? 1 : Math.Round((double)counts.Valid / counts.Fetched, 4), violations),
            new QualityComplete(rows.Current, rows.Previous, rows.Previous > 0 && rows.Current < rows.Previous * (1 - options.RowDropAlarm)),
            new QualityClean(counts.Duplicates, clean.Blank, clean.Untrimmed));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.run_quality (run_id, dataset_id, checks, created_at) values (@runId, @datasetId, @checks::jsonb, @now)
            on conflict (run_id) do nothing
            """, new { runId, datasetId, checks = JsonSerializer.Serialize(quality, JsonSerializerOptions.Web), now }, transaction, cancellationToken: cancellationToken));
        return quality;
    }
}
