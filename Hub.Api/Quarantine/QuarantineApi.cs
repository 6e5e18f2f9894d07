using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Hub.Api.Access;
using Hub.Worker.Quarantine;
using Hub.Worker.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Hub.Api.Quarantine;

/// <summary>A record that failed validation, with every reason, its run and the schema version it failed.</summary>
public sealed record QuarantinedRecord(long Id, string DatasetId, Guid RunId, string? Key, JsonElement Errors, string Payload, int SchemaVersion, DateTimeOffset CreatedAt, Guid? ReplayedRunId);

public static class QuarantineApi
{
    /// <summary><c>GET /api/quarantine?dataset=</c> and <c>POST /api/quarantine/replay?dataset=</c>.</summary>
    public static IEndpointRouteBuilder MapQuarantineApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/quarantine").WithTags("Quarantine");
        group.MapGet("/", ListAsync).WithSummary("Quarantined records, oldest first, with their errors and payload; ?after= is the last id seen")
            .RequireAuthorization(AccessPolicies.Auditor);
        group.MapPost("/replay", ReplayAsync).WithSummary("Checks a dataset's quarantined records again and publishes those that now pass")
            .RequireAuthorization(AccessPolicies.Operator);
        return endpoints;
    }

    private static async Task<Results<Ok<IReadOnlyList<QuarantinedRecord>>, ProblemHttpResult>> ListAsync(
        NpgsqlDataSource dataSource, string? dataset, long? after, int? limit, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1000)
        {
            return TypedResults.Problem("limit must be between 1 and 1000", statusCode: StatusCodes.Status400BadRequest);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(long Id, string DatasetId, Guid RunId, string? Key, string Errors, string Payload, int SchemaVersion, DateTimeOffset CreatedAt, Guid? ReplayedRunId)>(new CommandDefinition(
            """
            select id, dataset_id, run_id, key, errors::text, payload, schema_version, created_at, replayed_run_id
            from hub.quarantine
            where (@dataset::text is null or dataset_id = @dataset) and id > @after
            order by id limit @limit
            """, new { dataset, after = after ?? 0, limit = limit ?? 100 }, cancellationToken: cancellationToken));
        return TypedResults.Ok<IReadOnlyList<QuarantinedRecord>>(rows
            .Select(r => new QuarantinedRecord(r.Id, r.DatasetId, r.RunId, r.Key, JsonElement.Parse(r.Errors), r.Payload, r.SchemaVersion, r.CreatedAt, r.ReplayedRunId))
            .ToList());
    }

    private static async Task<Results<Ok<ReplayResult>, ProblemHttpResult>> ReplayAsync(QuarantineReplay replay, ClaimsPrincipal user, string? dataset, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(dataset))
        {
            return TypedResults.Problem("name the dataset: POST /api/quarantine/replay?dataset=<id>", statusCode: StatusCodes.Status400BadRequest);
        }

        try
        {
            return await replay.ReplayAsync(dataset, AccessPolicies.Signature(user), cancellationToken) is { } result
                ? TypedResults.Ok(result)
                : TypedResults.Problem($"dataset '{dataset}' is not in the catalogue", statusCode: StatusCodes.Status404NotFound);
        }
        catch (DatasetRefusedException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict");
        }
    }
}
