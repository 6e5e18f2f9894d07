using Microsoft.AspNetCore.Http.HttpResults;

namespace Hub.Api.Datasets;

public static class DatasetsApi
{
    public const int MaxPageSize = 1000;

    /// <summary>The portal's catalogue and records: <c>GET /api/datasets</c>, <c>/{id}</c>, <c>/{id}/records</c>.</summary>
    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/datasets").WithTags("Datasets");
        group.MapGet("/", ListAsync).WithSummary("The catalogue: every dataset with its metadata and last run");
        group.MapGet("/{id}", GetAsync).WithSummary("One dataset with its metadata and last run");
        group.MapGet("/{id}/records", RecordsAsync).WithSummary("Records of the current version, or of ?version= / the version current ?asOf= a time, in key order, with keyset paging");
        group.MapGet("/{id}/versions", VersionsAsync).WithSummary("Published versions, newest first, with their counts and times");
        group.MapGet("/{id}/quality", QualityAsync).WithSummary("Quality checks (correct, complete, clean) of the latest runs, newest first");
        group.MapGet("/{id}/changes", ChangesAsync).WithSummary("Record changes (c/u/d with values) after version ?since=, in version and key order");
        return endpoints;
    }

    private static async Task<Ok<IReadOnlyList<DatasetSummary>>> ListAsync(DatasetQueries queries, CancellationToken cancellationToken) =>
        TypedResults.Ok(await queries.ListAsync(cancellationToken));

    private static async Task<Results<Ok<DatasetSummary>, ProblemHttpResult>> GetAsync(DatasetQueries queries, string id, CancellationToken cancellationToken) =>
        await queries.GetAsync(id, cancellationToken) is { } dataset ? TypedResults.Ok(dataset) : NotFound(id);

    private static async Task<Results<Ok<RecordPage>, ProblemHttpResult>> RecordsAsync(
        DatasetQueries queries, string id, int? limit, string? after, long? version, DateTimeOffset? asOf, CancellationToken cancellationToken)
    {
        if (version is not null && asOf is not null)
        {
            return TypedResults.Problem("give either version or asOf, not both", statusCode: StatusCodes.Status400BadRequest);
        }

        if (limit is < 1 or > MaxPageSize)
        {
            return TypedResults.Problem($"limit must be between 1 and {MaxPageSize}", statusCode: StatusCodes.Status400BadRequest);
        }

        if (version is < 0)
        {
            return TypedResults.Problem("version must be 0 or more", statusCode: StatusCodes.Status400BadRequest);
        }

        return await queries.RecordsAsync(id, version, asOf, after, limit ?? 100, cancellationToken) is { } page ? TypedResults.Ok(page) : NotFound(id);
    }

    private static async Task<Results<Ok<IReadOnlyList<VersionSummary>>, ProblemHttpResult>> VersionsAsync(DatasetQueries queries, string id, CancellationToken cancellationToken) =>
        await queries.VersionsAsync(id, cancellationToken) is { } versions ? TypedResults.Ok(versions) : NotFound(id);

    private static async Task<Results<Ok<IReadOnlyList<RunQualityReport>>, ProblemHttpResult>> QualityAsync(DatasetQueries queries, string id, int? limit, CancellationToken cancellationToken) =>
        await queries.QualityAsync(id, Math.Clamp(limit ?? 20, 1, 500), cancellationToken) is { } reports ? TypedResults.Ok(reports) : NotFound(id);

    private static async Task<Results<Ok<ChangePage>, ProblemHttpResult>> ChangesAsync(
        DatasetQueries queries, string id, long? since, string? after, int? limit, CancellationToken cancellationToken)
    {
        if (since is < 0 || limit is < 1 or > 10 * MaxPageSize)
        {
            return TypedResults.Problem($"since must be 0 or more and limit between 1 and {10 * MaxPageSize}", statusCode: StatusCodes.Status400BadRequest);
        }

        return await queries.ChangesAsync(id, since ?? 0, after, limit ?? MaxPageSize, cancellationToken) is { } page ? TypedResults.Ok(page) : NotFound(id);
    }

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem($"dataset '{id}' is not in the catalogue", statusCode: StatusCodes.Status404NotFound);
}
