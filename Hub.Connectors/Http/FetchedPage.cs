using System.Text.Json;

namespace Hub.Connectors.Http;

/// <summary>
/// One page as the agency sent it: the request's URL, time and status, the raw bytes (kept for lineage)
/// with their SHA-256, and the parsed records. Dispose it to release the parsed document.
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

    public void Dispose() => document.Dispose();
}

/// <summary>The agency answered with something the hub cannot use; the run fails with this message.</summary>
public sealed class AgencyResponseException(string message, Exception? inner = null) : Exception(message, inner);
