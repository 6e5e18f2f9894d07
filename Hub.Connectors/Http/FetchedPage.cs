using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hub.Connectors.Http;

/// <summary>
/// One page as the agency sent it: the request's URL (secrets redacted), time and status, the raw bytes
/// (kept for lineage) with their SHA-256, and the records as JSON objects. Dispose it to release the parsed document.
/// </summary>
public sealed class FetchedPage(Uri url, DateTimeOffset fetchedAt, int statusCode, byte[] payload, string payloadSha256, JsonDocument document, IReadOnlyList<JsonElement> records)
    : IDisposable
{
    public Uri Url { get; } = url;
    public DateTimeOffset FetchedAt { get; } = fetchedAt;
    public int StatusCode { get; } = statusCode;
    public byte[] Payload { get; } = payload;
    public string PayloadSha256 { get; } = payloadSha256;
    public IReadOnlyList<JsonElement> Records { get; } = records;

    public static FetchedPage FromJson(AgencyResponse response, JsonDocument document, IReadOnlyList<JsonElement> records)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new FetchedPage(response.Url, response.FetchedAt, response.StatusCode, response.Payload, response.PayloadSha256, document, records);
    }

    /// <summary>A page of a non-JSON source (XML, CSV): its records converted to JSON objects, the raw payload kept as sent.</summary>
    public static FetchedPage FromObjects(AgencyResponse response, JsonArray records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var document = JsonSerializer.SerializeToDocument(records);
        return FromJson(response, document, document.RootElement.EnumerateArray().ToList());
    }

    public void Dispose() => document.Dispose();
}

/// <summary>The agency answered with something the hub cannot use; the run fails with this message.</summary>
public sealed class AgencyResponseException(string message, Exception? inner = null) : Exception(message, inner);
