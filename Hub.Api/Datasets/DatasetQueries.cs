using System.Text.Json;
using Dapper;
using Hub.Api.Runs;
using System.Globalization;
using Hub.Worker.Store;
using Npgsql;

namespace Hub.Api.Datasets;

/// <summary>A dataset of the catalogue with its metadata, published version and last run.</summary>
public sealed record DatasetSummary
{
    public string Id { get; init; } = string.Empty;
    public string AgencyCode { get; init; } = string.Empty;
    public string AgencyName { get; init; } = string.Empty;
    public string Title { get; init; } = string.Empty;
    public string? Description { get; init; }
    public string Licence { get; init; } = string.Empty;
    public string Classification { get; init; } = string.Empty;
    public string UpdateCycle { get; init; } = string.Empty;
    public string Schedule { get; init; } = string.Empty;
    public string[] PrimaryKey { get; init; } = [];
    public int SchemaVersion { get; init; }
    public long CurrentVersion { get; init; }
    public long RowCount { get; init; }

    /// <summary>Why nothing is published now: a breaking schema change under the registered schema version; null when it publishes.</summary>
    public string? BlockedReason { get; init; }

    public RunSummary? LastRun { get; init; }
}

/// <summary>
/// One page of a dataset's records at one version; <c>Next</c> is the <c>after</c> value of the next page.
/// <see cref="RecordPages"/> writes its JSON (serialised once per page and version, then served from memory).
/// </summary>
public sealed record RecordPage(string DatasetId, long Version, IReadOnlyList<JsonElement> Records, string? Next);

/// <summary>A published version of a dataset with what it changed.</summary>
public sealed record VersionSummary(long Version, Guid RunId, DateTimeOffset PublishedAt, long Inserted, long Updated, long Deleted, long RowCount);

/// <summary>The quality checks of one run (see <c>Hub.Worker.Store.RunQuality</c>).</summary>
public sealed record RunQualityReport(Guid RunId, DateTimeOffset CheckedAt, long? Version, JsonElement Checks);

/// <summary>Record changes after version <c>Since</c> up to <c>Until</c>; <c>Next</c> continues the listing.</summary>
public sealed record ChangePage(string DatasetId, long Since, long Until, IReadOnlyList<RecordChange> Changes, string? Next);

/// <summary>
/// The dataset moved to a new table (a breaking schema version) at <c>Version</c>, under schema version
/// <c>SchemaVersion</c>: changes across that version are not served (its events are all <c>c</c>reated).
/// </summary>
public sealed record TableMove(long Version, int SchemaVersion);

/// <summary>The changes asked for, or the move to a new table inside their range.</summary>
public sealed record ChangesAnswer(ChangePage? Page, TableMove? Moved);

public sealed class DatasetQueries(NpgsqlDataSource dataSource)
{
    private const string DatasetColumns =
        """
        d.id as Id, d.agency_code as AgencyCode, d.agency_name as AgencyName, d.title as Title, d.description as Description,
        d.licence as Licence, d.classification as Classification, d.update_cycle as UpdateCycle, d.schedule as Schedule,
        d.primary_key::text[] as PrimaryKey, d.schema_version as SchemaVersion, d.current_version as CurrentVersion, d.row_count as RowCount,
        d.blocked_reason as BlockedReason
        """;

    public async Task<IReadOnlyList<DatasetSummary>> ListAsync(CancellationToken cancellationToken) =>
        await QueryAsync("d.withdrawn_reason is null", new { }, cancellationToken);

    public async Task<DatasetSummary?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync("d.id = @id and d.withdrawn_reason is null", new { id }, cancellationToken)).SingleOrDefault();

    /// <summary>Why the dataset is withdrawn from publication (its file classifies it secret), or null.</summary>
    public async Task<string?> WithdrawnReasonAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select withdrawn_reason from hub.datasets where id = @id", new { id }, cancellationToken: cancellationToken));
    }

    /// <summary>The agency that manages a dataset, withdrawn or not (null when the hub never registered it).</summary>
    public async Task<string?> AgencyOfAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select agency_code from hub.datasets where id = @id", new { id }, cancellationToken: cancellationToken));
    }

    /// <summary>The dataset's table and current version, or null when the dataset does not exist or is withdrawn.</summary>
    public async Task<(string TableName, long CurrentVersion)?> FindAsync(NpgsqlConnection connection, string id, CancellationToken cancellationToken)
    {
        var dataset = await connection.QuerySingleOrDefaultAsync<(string TableName, long CurrentVersion)>(new CommandDefinition(
            "select table_name, current_version from hub.datasets where id = @id and withdrawn_reason is null", new { id }, cancellationToken: cancellationToken));
        return dataset.TableName is null ? null : dataset;
    }

    public async Task<IReadOnlyList<VersionSummary>?> VersionsAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await FindAsync(connection, id, cancellationToken) is null)
        {
            return null;
        }

        var rows = await connection.QueryAsync<VersionSummary>(new CommandDefinition(
            """
            select version as Version, run_id as RunId, published_at as PublishedAt, inserted as Inserted, updated as Updated,
                   deleted as Deleted, row_count as RowCount
            from hub.versions where dataset_id = @id order by version desc
            """, new { id }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    /// <summary>Quality checks of the dataset's latest runs, newest first; null when the dataset does not exist.</summary>
    public async Task<IReadOnlyList<RunQualityReport>?> QualityAsync(string id, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await FindAsync(connection, id, cancellationToken) is null)
        {
            return null;
        }

        var rows = await connection.QueryAsync<(Guid RunId, DateTimeOffset CheckedAt, long? Version, string Checks)>(new CommandDefinition(
            """
            select q.run_id, q.created_at, r.version, q.checks::text
            from hub.run_quality q join hub.runs r on r.id = q.run_id
            where q.dataset_id = @id order by q.created_at desc limit @limit
            """, new { id, limit }, cancellationToken: cancellationToken));
        return rows.Select(r => new RunQualityReport(r.RunId, r.CheckedAt, r.Version, JsonElement.Parse(r.Checks))).ToList();
    }

    /// <summary>
    /// Changes after <paramref name="since"/>; <paramref name="after"/> is a <c>version:key</c> cursor from a previous
    /// page. When versions after <paramref name="since"/> are in a table the dataset has left (a breaking schema
    /// version), the answer is the move instead: the feed reads one table.
    /// </summary>
    public async Task<ChangesAnswer?> ChangesAsync(string id, long since, string? after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await FindAsync(connection, id, cancellationToken) is not { } dataset)
        {
            return null;
        }

        (long, string)? cursor = null;
        if (after is not null && after.Split(':', 2) is [var version, var key] && long.TryParse(version, CultureInfo.InvariantCulture, out var v))
        {
            cursor = (v, key);
        }

        // Versions before a move are stamped with their table; the first one after the last move is in the current table.
        var moved = await connection.QuerySingleOrDefaultAsync<TableMove>(new CommandDefinition(
            """
            select v.version as Version, r.schema_version as SchemaVersion
            from hub.versions v join hub.runs r on r.id = v.run_id
            where v.dataset_id = @id and v.version > @since and v.table_name is null
              and exists (select 1 from hub.versions o where o.dataset_id = @id and o.version > @since and o.table_name is not null)
            order by v.version limit 1
            """, new { id, since }, cancellationToken: cancellationToken));
        if (moved is not null)
        {
            return new ChangesAnswer(null, moved);
        }

        var changes = await ChangeFeed.ReadAsync(connection, dataset.TableName, since, dataset.CurrentVersion, cursor, limit, cancellationToken);
        var next = changes.Count == limit ? $"{changes[^1].Version}:{changes[^1].Key}" : null;
        return new ChangesAnswer(new ChangePage(id, since, dataset.CurrentVersion, changes, next), null);
    }

    private async Task<IReadOnlyList<DatasetSummary>> QueryAsync(string where, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<DatasetSummary, RunSummary, DatasetSummary>(new CommandDefinition(
            $"""
            select {DatasetColumns}, {RunQueries.SummaryColumns}
            from hub.datasets d
            left join lateral (select * from hub.runs r where r.dataset_id = d.id order by r.started_at desc limit 1) r on true
            where {where}
            order by d.id
            """, parameters, cancellationToken: cancellationToken),
            (dataset, run) => dataset with { LastRun = run },
            splitOn: "Id");
        return rows.AsList();
    }
}
