using System.Security.Claims;
using Hub.Api.Access;
using Hub.Worker.Catalog;
using Hub.Worker.Ingest;
using Hub.Worker.Store;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Hub.Api.Ingest;

public static class IngestApi
{
    /// <summary><c>POST /api/ingest/{dataset}</c>: an agency pushes records of one of its datasets.</summary>
    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/ingest/{dataset}", IngestAsync)
            .WithTags("Ingest")
            .WithSummary("An agency pushes records (JSON array or NDJSON) of one of its own datasets, with its API key (Authorization: Bearer or X-Api-Key)")
            .RequireAuthorization(AccessPolicies.Agency)
            .Accepts<object>("application/json", "application/x-ndjson");
        return endpoints;
    }

    private static async Task<Results<Accepted<PushResult>, Ok<PushResult>, ProblemHttpResult>> IngestAsync(
        HttpContext context,
        string dataset,
        ClaimsPrincipal user,
        HubCatalog catalog,
        PushIngestion ingestion,
        IOptions<IngestOptions> options,
        CancellationToken cancellationToken)
    {
        var agency = AccessPolicies.AgencyOf(user);
        if (catalog.Find(dataset) is not { } entry)
        {
            return Problem(StatusCodes.Status404NotFound, "Not Found", $"dataset '{dataset}' is not in the catalogue");
        }

        if (!string.Equals(entry.Dataset.AgencyCode, agency, StringComparison.Ordinal))
        {
            return AccessPolicies.OtherAgency(agency!, $"dataset '{dataset}'");
        }

        var mediaType = context.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType is not ("application/json" or "application/x-ndjson"))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type", "send Content-Type application/json (a JSON array of records) or application/x-ndjson (one record per line)");
        }

        var max = options.Value.MaxBodyBytes;
        if (context.Request.ContentLength > max)
        {
            return TooLarge(max);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = max + 1;
        }

        var body = await ReadBodyAsync(context.Request.Body, max, cancellationToken);
        if (body is null)
        {
            return TooLarge(max);
        }

        var idempotencyKey = context.Request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > 200)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad Request", "the Idempotency-Key is longer than 200 characters");
        }

        try
        {
            var result = await ingestion.IngestAsync(
                entry, body, mediaType == "application/x-ndjson", context.Request.Path, idempotencyKey.Length == 0 ? null : idempotencyKey, cancellationToken);
            var location = $"/api/runs/{result.RunId}";
            return result.Repeated ? TypedResults.Ok(result) : TypedResults.Accepted(location, result);
        }
        catch (PushFormatException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad Request", e.Message);
        }
        catch (PushInProgressException e)
        {
            return Problem(StatusCodes.Status409Conflict, "Conflict", e.Message);
        }
        catch (DatasetRefusedException e)
        {
            return Problem(StatusCodes.Status409Conflict, "Conflict", e.Message);
        }
    }

    /// <summary>The body, or null when it is longer than <paramref name="max"/> bytes.</summary>
    private static async Task<byte[]?> ReadBodyAsync(Stream body, long max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        try
        {
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > max)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.ToArray();
    }

    private static ProblemHttpResult TooLarge(long max) =>
        Problem(StatusCodes.Status413PayloadTooLarge, "Payload Too Large",
            $"the body is larger than {max} bytes (Ingest:MaxBodyBytes); split the push into several smaller ones (each one is a partial run: nothing is deleted)");

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title);
}
