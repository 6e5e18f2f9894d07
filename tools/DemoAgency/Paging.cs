using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace DemoAgency;

/// <summary>A requested window of a list: <c>offset</c> + <c>limit</c>, or <c>page</c> (1-based) + <c>page_size</c>.</summary>
internal readonly record struct PageRequest(int Offset, int Limit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 10_000;

    /// <summary>Parses the paging query parameters. A limit above <see cref="MaxLimit"/> is clamped; malformed values are an error.</summary>
    public static bool TryParse(IQueryCollection query, out PageRequest page, out string? error)
    {
        page = default;
        bool pageMode = query.ContainsKey("page") || query.ContainsKey("page_size");
        if (pageMode && (query.ContainsKey("offset") || query.ContainsKey("limit")))
        {
            error = "use either offset/limit or page/page_size, not both";
            return false;
        }

        string sizeName = pageMode ? "page_size" : "limit";
        if (!TryInt(query, sizeName, DefaultLimit, out int limit, out error))
        {
            return false;
        }

        limit = Math.Min(limit, MaxLimit);
        long offset;
        if (pageMode)
        {
            if (!TryInt(query, "page", 1, out int number, out error))
            {
                return false;
            }

            if (number < 1)
            {
                error = "page is 1-based";
                return false;
            }

            offset = (long)(number - 1) * limit;
        }
        else
        {
            if (!TryInt(query, "offset", 0, out int start, out error))
            {
                return false;
            }

            offset = start;
        }

        page = new PageRequest((int)Math.Min(offset, int.MaxValue), limit);
        return true;
    }

    /// <summary>Reads a non-negative integer query parameter, with a default when absent or empty.</summary>
    public static bool TryInt(IQueryCollection query, string name, int fallback, out int value, out string? error)
    {
        error = null;
        StringValues raw = query[name];
        if (StringValues.IsNullOrEmpty(raw))
        {
            value = fallback;
            return true;
        }

        if (raw.Count == 1 && int.TryParse(raw[0], NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        value = 0;
        error = $"{name} must be a non-negative integer";
        return false;
    }
}

/// <summary>Writes one record of a page at a position of the whole (filtered) list; <c>broken</c> asks for a deliberately invalid record.</summary>
internal delegate void RecordWriter(Utf8JsonWriter writer, int position, bool broken);

/// <summary>
/// Streams the page envelope <c>{"total","offset","limit","data":[...]}</c> to the response body with a Utf8JsonWriter,
/// flushing every few hundred records so a large page never sits whole in memory.
/// </summary>
internal sealed class JsonPageResult(int total, PageRequest page, RecordWriter writeRecord) : IResult
{
    private const int FlushEvery = 256;

    private static readonly JsonEncodedText Total = JsonEncodedText.Encode("total");
    private static readonly JsonEncodedText Offset = JsonEncodedText.Encode("offset");
    private static readonly JsonEncodedText Limit = JsonEncodedText.Encode("limit");
    private static readonly JsonEncodedText Data = JsonEncodedText.Encode("data");

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        HttpResponse response = httpContext.Response;
        CancellationToken aborted = httpContext.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = AgencyJson.ContentType;
        int badEvery = httpContext.Features.Get<BadRecordFeature>()?.Every ?? 0;
        int first = page.Offset;
        int end = (int)Math.Min((long)first + page.Limit, total);

        await using var writer = new Utf8JsonWriter(response.BodyWriter, AgencyJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteNumber(Total, total);
        writer.WriteNumber(Offset, page.Offset);
        writer.WriteNumber(Limit, page.Limit);
        writer.WriteStartArray(Data);
        for (int position = first; position < end; position++)
        {
            bool broken = badEvery > 0 && (position + 1L) % badEvery == 0;
            writeRecord(writer, position, broken);
            if ((position - first + 1) % FlushEvery == 0)
            {
                writer.Flush();
                await response.BodyWriter.FlushAsync(aborted);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        await response.BodyWriter.FlushAsync(aborted);
    }
}
