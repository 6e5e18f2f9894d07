using Microsoft.AspNetCore.Http.HttpResults;

namespace Hub.Api.Runs;

public static class RunsApi
{
    /// <summary><c>GET /api/runs?dataset=&amp;limit=</c> and <c>GET /api/runs/{id}</c>.</summary>
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/runs").WithTags("Runs");
        group.MapGet("/", ListAsync).WithSummary("Runs, newest first, optionally of one dataset");
        group.MapGet("/{id:guid}", GetAsync).WithSummary("One run with its requests, payload hashes, counts, errors and quarantined records");
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

    private static async Task<Results<Ok<RunDetail>, ProblemHttpResult>> GetAsync(RunQueries queries, Guid id, CancellationToken cancellationToken) =>
        await queries.GetAsync(id, cancellationToken) is { } run
            ? TypedResults.Ok(run)
            : TypedResults.Problem($"run {id} does not exist", statusCode: StatusCodes.Status404NotFound);
}
