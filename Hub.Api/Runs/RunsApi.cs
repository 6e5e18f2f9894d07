using System.Security.Claims;
using Hub.Api.Access;
using Hub.Api.Datasets;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Hub.Api.Runs;

public static class RunsApi
{
    /// <summary>
    /// <c>GET /api/runs?dataset=&amp;limit=</c> (public) and <c>GET /api/runs/{id}</c>, whose quarantined records hold raw
    /// data: auditors and operators, or the agency of the run's dataset (a push's <c>Location</c>).
    /// </summary>
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/runs").WithTags("Runs");
        group.MapGet("/", ListAsync).WithSummary("Runs, newest first, optionally of one dataset");
        group.MapGet("/{id:guid}", GetAsync).WithSummary("One run with its requests, payload hashes, counts, errors and quarantined records")
            .RequireAuthorization(AccessPolicies.AuditorOrAgency);
        return endpoints;
    }

    private static async Task<Results<Ok<IReadOnlyList<RunSummary>>, ProblemHttpResult>> ListAsync(RunQueries queries, string? dataset, int? limit, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1000)
        {
            return TypedResults.Problem("limit must be between 1 and 1000", statusCode: StatusCodes.Status400BadRequest);
        }

        return TypedResults.Ok(await queries.ListAsync(dataset, limit ?? 50, cancellationToken));
    }

    private static async Task<Results<Ok<RunDetail>, ProblemHttpResult>> GetAsync(
        RunQueries queries, DatasetQueries datasets, ClaimsPrincipal user, Guid id, CancellationToken cancellationToken)
    {
        if (await queries.GetAsync(id, cancellationToken) is not { } run)
        {
            return TypedResults.Problem($"run {id} does not exist", statusCode: StatusCodes.Status404NotFound);
        }

        return AccessPolicies.AgencyOf(user) is { } agency && await datasets.AgencyOfAsync(run.Run.DatasetId, cancellationToken) != agency
            ? AccessPolicies.OtherAgency(agency, $"run {id} (of dataset '{run.Run.DatasetId}')")
            : TypedResults.Ok(run);
    }
}
