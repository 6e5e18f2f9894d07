using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hub.Connectors.Http;

/// <summary>
/// One page as the agency sent it: the request's URL (secrets redacted), time and status, the raw bytes
/// (kept for lineage) with their SHA-256, and the records as JSON objects. Dispose it to release the parsed document
/// and the bytes (an array rented from the shared pool, which <see cref="Payload"/> must not be read from after that).
/// </summary>
public sealed class FetchedPage : IDisposable
{
    private readonly JsonDocument document;
    private byte[]? rented;

    /// <summary>A page whose bytes are all of <paramref name="payload"/> (a push's body, a test's page).</summary>
    public FetchedPage(Uri url, DateTimeOffset fetchedAt, int statusCode, byte[] payload, string payloadSha256, JsonDocument document, IReadOnlyList<JsonElement> records)
        : this(url, fetchedAt, statusCode, payload, payloadSha256, document, records, rented: null)
    {
    }

    private FetchedPage(Uri url, DateTimeOffset fetchedAt, int statusCode, ReadOnlyMemory<byte> payload, string payloadSha256, JsonDocument document, IReadOnlyList<JsonElement> records, byte[]? rented)
    {
        Url = url;
        FetchedAt = fetchedAt;
        StatusCode = statusCode;
        Payload = payload;
        PayloadSha256 = payloadSha256;
        Records = records;
        this.document = document;
        this.rented = rented;
    }

    public Uri Url { get; }
    public DateTimeOffset FetchedAt { get; }
    public int StatusCode { get; }
    public ReadOnlyMemory<byte> Payload { get; }
    public string PayloadSha256 { get; }
    public IReadOnlyList<JsonElement> Records { get; }

    /// <summary>A page of JSON records from <paramref name="response"/>, which it takes over (its rented bytes included).</summary>
    public static FetchedPage FromJson(AgencyResponse response, JsonDocument document, IReadOnlyList<JsonElement> records)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new FetchedPage(response.Url, response.FetchedAt, response.StatusCode, response.Payload, response.PayloadSha256, document, records, response.RentedBuffer);
    }

    /// <summary>A page of a non-JSON source (XML, CSV): its records converted to JSON objects, the raw payload kept as sent.</summary>
    public static FetchedPage FromObjects(AgencyResponse response, JsonArray records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var document = JsonSerializer.SerializeToDocument(records);
        return FromJson(response, document, document.RootElement.EnumerateArray().ToList());
    }

    public void Dispose()
    {
        document.Dispose();
        if (Interlocked.Exchange(ref rented, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>The agency answered with something the hub cannot use; the run fails with this message.</summary>
public sealed class AgencyResponseException(string message, Exception? inner = null) : Exception(message, inner);
