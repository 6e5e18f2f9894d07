using System.Text.Json;
using Dapper;
using Npgsql;

namespace Hub.Api.Runs;

/// <summary>
/// A run of a connector: what triggered it, how it ended and how its records were counted.
/// <c>FetchFinishedAt</c> splits its time into fetching and checking, then writing and publishing. <c>MarkedDeleted</c>
/// is the part of <c>Deleted</c> the agency marked deleted (<c>deleted_when</c>; null for runs from before it was
/// counted): <c>Valid = Inserted + Updated + Unchanged + Duplicates + MarkedDeleted</c>.
/// </summary>
public sealed record RunSummary(
    Guid Id,
    string DatasetId,
    string Trigger,
    string Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    long? Fetched,
    long Valid,
    long Quarantined,
    long Inserted,
    long Updated,
    long Unchanged,
    long Deleted,
    long Duplicates,
    long? Version,
    string? Error,
    DateTimeOffset? FetchFinishedAt,
    long? MarkedDeleted);

/// <summary>A request the run made, with the SHA-256 of the raw payload kept for lineage.</summary>
public sealed record RunRequest(int Sequence, string Url, DateTimeOffset FetchedAt, int StatusCode, string PayloadSha256, int RecordCount);

/// <summary>A quarantined record of the run with every reason.</summary>
public sealed record RunRejection(long Id, string? Key, JsonElement Errors, string Payload);

public sealed record RunDetail(RunSummary Run, string ConfigRevision, int SchemaVersion, IReadOnlyList<RunRequest> Requests, IReadOnlyList<RunRejection> Quarantined);

public sealed class RunQueries(NpgsqlDataSource dataSource)
{
    public const string SummaryColumns =
        """
        r.id as Id, r.dataset_id as DatasetId, r.trigger as Trigger, r.status as Status, r.started_at as StartedAt,
        r.finished_at as FinishedAt, r.fetched as Fetched, r.valid as Valid, r.quarantined as Quarantined,
        r.inserted as Inserted, r.updated as Updated, r.unchanged as Unchanged, r.deleted as Deleted,
        r.duplicates as Duplicates, r.version as Version, r.error as Error, r.fetch_finished_at as FetchFinishedAt,
        r.marked_deleted as MarkedDeleted
        """;

    public async Task<IReadOnlyList<RunSummary>> ListAsync(string? datasetId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<RunSummary>(new CommandDefinition(
            $"""
            select {SummaryColumns} from hub.runs r
            where @datasetId::text is null or r.dataset_id = @datasetId
            order by r.started_at desc, r.id desc limit @limit
            """, new { datasetId, limit }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public async Task<RunDetail?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var found = (await connection.QueryAsync<RunSummary, RunConfiguration, (RunSummary Run, RunConfiguration Configuration)>(
            new CommandDefinition(
                $"select {SummaryColumns}, r.config_revision as ConfigRevision, r.schema_version as SchemaVersion from hub.runs r where r.id = @id",
                new { id }, cancellationToken: cancellationToken),
            (run, configuration) => (run, configuration),
            splitOn: nameof(RunConfiguration.ConfigRevision))).SingleOrDefault();
        if (found.Run is not { } run)
        {
            return null;
        }

        var requests = await connection.QueryAsync<RunRequest>(new CommandDefinition(
            "select sequence as Sequence, url as Url, fetched_at as FetchedAt, status_code as StatusCode, payload_sha256 as PayloadSha256, record_count as RecordCount from hub.run_requests where run_id = @id order by sequence",
            new { id }, cancellationToken: cancellationToken));
        var rejected = await connection.QueryAsync<(long Id, string? Key, string Errors, string Payload)>(new CommandDefinition(
            "select id, key, errors::text, payload from hub.quarantine where run_id = @id order by id limit 100",
            new { id }, cancellationToken: cancellationToken));
        return new RunDetail(
            run,
            found.Configuration.ConfigRevision,
            found.Configuration.SchemaVersion,
            requests.AsList(),
            rejected.Select(r => new RunRejection(r.Id, r.Key, JsonElement.Parse(r.Errors), r.Payload)).ToList());
    }
}

/// <summary>What a run ran under: its connectors.d file's revision and the dataset's schema version.</summary>
internal sealed record RunConfiguration(string ConfigRevision, int SchemaVersion);
