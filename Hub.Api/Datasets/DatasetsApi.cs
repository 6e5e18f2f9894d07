using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

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
        group.MapGet("/{id}/records", RecordsAsync)
            .WithSummary("Records of the current version, or of ?version= / the version current ?asOf= a time, in key order, with keyset paging")
            .Produces<RecordPage>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id}/versions", VersionsAsync).WithSummary("Published versions, newest first, with their counts and times");
        group.MapGet("/{id}/quality", QualityAsync).WithSummary("Quality checks (correct, complete, clean) of the latest runs, newest first");
        group.MapGet("/{id}/changes", ChangesAsync).WithSummary("Record changes (c/u/d with values) after version ?since=, in version and key order");
        return endpoints;
    }

    private static async Task<Ok<IReadOnlyList<DatasetSummary>>> ListAsync(DatasetQueries queries, CancellationToken cancellationToken) =>
        TypedResults.Ok(await queries.ListAsync(cancellationToken));

    private static async Task<Results<Ok<DatasetSummary>, ProblemHttpResult>> GetAsync(DatasetQueries queries, string id, CancellationToken cancellationToken) =>
        await queries.GetAsync(id, cancellationToken) is { } dataset ? TypedResults.Ok(dataset) : await NotFoundAsync(queries, id, cancellationToken);

    /// <summary>
    /// The page's JSON comes from <see cref="RecordPages"/> (cached for published versions). A page of a published
    /// version carries an ETag (version and registration) and answers 304 to a matching <c>If-None-Match</c>; an
    /// explicit <c>?version=</c> is immutable, the current version and <c>?asOf=</c> must be revalidated.
    /// </summary>
    private static async Task<IResult> RecordsAsync(
        HttpContext http, RecordPages pages, DatasetQueries queries, string id, int? limit, string? after, long? version, DateTimeOffset? asOf, CancellationToken cancellationToken)
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

        var ifNoneMatch = http.Request.GetTypedHeaders().IfNoneMatch;
        var page = await pages.ReadAsync(id, version, asOf, after, limit ?? 100, etag => Matches(ifNoneMatch, etag), cancellationToken);
        if (page is null)
        {
            return await NotFoundAsync(queries, id, cancellationToken);
        }

        if (page.NotPublished)
        {
            return VersionNotFound(id, page.Version);
        }

        if (page.ETag is not null)
        {
            http.Response.Headers.ETag = page.ETag;
            http.Response.Headers.CacheControl = page.Immutable ? "public, max-age=31536000, immutable" : "no-cache";
        }

        return page.NotModified ? TypedResults.StatusCode(StatusCodes.Status304NotModified) : TypedResults.Bytes(page.Json!, "application/json; charset=utf-8");
    }

    /// <summary>If-None-Match holds <paramref name="etag"/> (weak comparison) or <c>*</c>.</summary>
    private static bool Matches(IList<EntityTagHeaderValue> ifNoneMatch, string etag)
    {
        if (ifNoneMatch.Count == 0)
        {
            return false;
        }

        var tag = new EntityTagHeaderValue(etag);
        return ifNoneMatch.Any(candidate => candidate.Equals(EntityTagHeaderValue.Any) || candidate.Compare(tag, useStrongComparison: false));
    }

    private static async Task<Results<Ok<IReadOnlyList<VersionSummary>>, ProblemHttpResult>> VersionsAsync(DatasetQueries queries, string id, CancellationToken cancellationToken) =>
        await queries.VersionsAsync(id, cancellationToken) is { } versions ? TypedResults.Ok(versions) : await NotFoundAsync(queries, id, cancellationToken);

    private static async Task<Results<Ok<IReadOnlyList<RunQualityReport>>, ProblemHttpResult>> QualityAsync(DatasetQueries queries, string id, int? limit, CancellationToken cancellationToken) =>
        await queries.QualityAsync(id, Math.Clamp(limit ?? 20, 1, 500), cancellationToken) is { } reports ? TypedResults.Ok(reports) : await NotFoundAsync(queries, id, cancellationToken);

    private static async Task<Results<Ok<ChangePage>, ProblemHttpResult>> ChangesAsync(
        DatasetQueries queries, string id, long? since, string? after, int? limit, CancellationToken cancellationToken)
    {
        if (since is < 0 || limit is < 1 or > 10 * MaxPageSize)
        {
            return TypedResults.Problem($"since must be 0 or more and limit between 1 and {10 * MaxPageSize}", statusCode: StatusCodes.Status400BadRequest);
        }

        return await queries.ChangesAsync(id, since ?? 0, after, limit ?? MaxPageSize, cancellationToken) switch
        {
            { Page: { } page } => TypedResults.Ok(page),
            { Moved: { } moved } => TypedResults.Problem(
                string.Create(CultureInfo.InvariantCulture, $"dataset '{id}' moved to a new table at version {moved.Version} (schema version {moved.SchemaVersion}); ")
                + string.Create(CultureInfo.InvariantCulture, $"read the versions up to it with ?version= or export, then follow changes since {moved.Version}"),
                statusCode: StatusCodes.Status410Gone,
                title: "Moved to a new table"),
            _ => await NotFoundAsync(queries, id, cancellationToken),
        };
    }

    /// <summary>A <c>?version=</c> above the dataset's current version: it does not exist (yet).</summary>
    internal static ProblemHttpResult VersionNotFound(string id, long version) =>
        TypedResults.Problem($"dataset '{id}' has no version {version}: it is not published (yet)", statusCode: StatusCodes.Status404NotFound);

    /// <summary>
    /// 404 for a dataset that is not in the catalogue; 451 with the reason for one withdrawn from publication (its
    /// file classifies it secret, regulation Art. 1.2).
    /// </summary>
    internal static async Task<ProblemHttpResult> NotFoundAsync(DatasetQueries queries, string id, CancellationToken cancellationToken) =>
        await queries.WithdrawnReasonAsync(id, cancellationToken) is { } reason
            ? TypedResults.Problem($"dataset '{id}' is withdrawn from publication: {reason}", statusCode: StatusCodes.Status451UnavailableForLegalReasons, title: "Withdrawn")
            : TypedResults.Problem($"dataset '{id}' is not in the catalogue", statusCode: StatusCodes.Status404NotFound);
}
