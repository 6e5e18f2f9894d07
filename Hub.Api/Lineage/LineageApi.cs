using System.Text.Json;
using Dapper;
using Hub.Api.Access;
using Hub.Api.Datasets;
using Hub.Worker.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Hub.Api.Lineage;

/// <summary>Where one version of a record came from: its run and the request whose raw payload held it.</summary>
public sealed record RecordOrigin(
    Guid RunId,
    string Trigger,
    DateTimeOffset RunStartedAt,
    string ConfigRevision,
    int SchemaVersion,
    string RequestUrl,
    DateTimeOffset FetchedAt,
    int StatusCode,
    string PayloadSha256);

/// <summary>One version of a record: the dataset versions it was part of, its values and content hash, its origin.</summary>
public sealed record RecordVersion(long VersionFrom, long? VersionTo, string ContentHash, JsonElement Values, RecordOrigin Origin);

public sealed record RecordLineage(string DatasetId, string Key, IReadOnlyList<RecordVersion> Versions);

public static class LineageApi
{
    /// <summary><c>GET /api/lineage/{dataset}/{key}</c> (public) and <c>GET /api/payloads/{sha256}</c> (auditors: raw, unmasked data).</summary>
    public static IEndpointRouteBuilder MapLineageApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/lineage/{dataset}/{key}", GetAsync).WithTags("Lineage")
            .WithSummary("The full history of one record, each version with its run, request, payload hash, schema version and config revision");
        endpoints.MapGet("/api/payloads/{sha256}", PayloadAsync).WithTags("Lineage")
            .WithSummary("A raw payload as the agency sent it, by its SHA-256").RequireAuthorization(AccessPolicies.Auditor);
        return endpoints;
    }

    private static async Task<Results<Ok<RecordLineage>, ProblemHttpResult>> GetAsync(
        NpgsqlDataSource dataSource, DatasetQueries queries, string dataset, string key, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await queries.FindAsync(connection, dataset, cancellationToken) is not { } found)
        {
            return await DatasetsApi.NotFoundAsync(queries, dataset, cancellationToken);
        }

        // A dataset that moved to a new table (a breaking schema version) keeps its earlier versions in the old one.
        // Their values are cut to the current table's columns: a column the schema no longer stores (a property
        // marked to be dropped as personal data) stays in the old table for SQL, but is not served.
        var tables = (await connection.QueryAsync<string>(new CommandDefinition(
            "select distinct table_name from hub.versions where dataset_id = @dataset and table_name is not null", new { dataset }, cancellationToken: cancellationToken)))
            .Append(found.TableName).Distinct(StringComparer.Ordinal);
        var columns = (await connection.QueryAsync<string>(new CommandDefinition(
            """
            select column_name from information_schema.columns
            where table_schema = 'open_data' and table_name = @TableName and column_name not like '\_%'
            """, new { found.TableName }, cancellationToken: cancellationToken))).ToArray();
        var history = string.Join("\nunion all\n", tables.Select(table =>
            $"""
            select _version_from, _version_to, _hash, _run_id, _batch,
                   (select coalesce(jsonb_object_agg(c.key, c.value), jsonb_build_object()) from jsonb_each(to_jsonb(t)) c where c.key = any(@columns))::text as values_json
            from {DatasetRegistry.QualifiedTable(table)} t where t._key = @key
            """));
        var versions = (await connection.QueryAsync<VersionRow, RecordOrigin, RecordVersion>(new CommandDefinition(
            $"""
            select t._version_from as VersionFrom, t._version_to as VersionTo, t._hash as ContentHash,
                   t.values_json as ValuesJson,
                   r.id as RunId, r.trigger as Trigger, r.started_at as RunStartedAt, r.config_revision as ConfigRevision,
                   r.schema_version as SchemaVersion, q.url as RequestUrl, q.fetched_at as FetchedAt, q.status_code as StatusCode,
                   q.payload_sha256 as PayloadSha256
            from ({history}) t
            join hub.runs r on r.id = t._run_id
            join hub.run_batches b on b.run_id = t._run_id and b.sequence = t._batch
            join hub.run_requests q on q.run_id = b.run_id and q.sequence = b.request_sequence
            order by t._version_from
            """, new { columns, key }, cancellationToken: cancellationToken),
            (row, origin) => new RecordVersion(row.VersionFrom, row.VersionTo, row.ContentHash, JsonElement.Parse(row.ValuesJson), origin),
            splitOn: nameof(RecordOrigin.RunId))).AsList();
        return versions.Count == 0
            ? TypedResults.Problem($"dataset '{dataset}' has never published a record with key '{key}'", statusCode: StatusCodes.Status404NotFound)
            : TypedResults.Ok(new RecordLineage(dataset, key, versions));
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> PayloadAsync(NpgsqlDataSource dataSource, string sha256, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var body = await connection.ExecuteScalarAsync<byte[]>(new CommandDefinition(
            "select body from hub.payloads where sha256 = @sha256", new { sha256 = sha256.ToLowerInvariant() }, cancellationToken: cancellationToken));
        return body is null
            ? TypedResults.Problem($"no payload with SHA-256 {sha256} is kept", statusCode: StatusCodes.Status404NotFound)
            : TypedResults.File(body, "application/octet-stream", $"{sha256}.bin");
    }

    /// <summary>The columns of a record version before its origin's (which Dapper maps to <see cref="RecordOrigin"/>).</summary>
    private sealed record VersionRow(long VersionFrom, long? VersionTo, string ContentHash, string ValuesJson);
}
