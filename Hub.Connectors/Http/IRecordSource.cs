using System.Text.Json;
using Hub.Core.Catalog;

namespace Hub.Connectors.Http;

/// <summary>A kind of source (<c>rest</c>, <c>odata</c>, <c>soap</c>, <c>csv</c>): fetches a source's pages one by one.</summary>
public interface IRecordSource
{
    string Kind { get; }

    IAsyncEnumerable<FetchedPage> FetchAsync(SourceDefinition definition, CancellationToken cancellationToken);
}

/// <summary>The sources by kind; what a run (and <c>hub connectors try</c>) fetches through.</summary>
public sealed class RecordSources(IEnumerable<IRecordSource> sources)
{
    private readonly Dictionary<string, IRecordSource> byKind = sources.ToDictionary(s => s.Kind, StringComparer.Ordinal);

    public IAsyncEnumerable<FetchedPage> FetchAsync(SourceDefinition source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        return byKind.TryGetValue(source.Kind, out var kind)
            ? kind.FetchAsync(source, cancellationToken)
            : throw new NotSupportedException($"no source is registered for kind '{source.Kind}'");
    }
}

/// <summary>Parsing of JSON pages shared by the REST and OData sources.</summary>
internal static class JsonPages
{
    /// <summary>
    /// The page as JSON. The content type is not trusted either way (agencies mislabel JSON as text/html or
    /// text/plain); it only explains a body that does not parse, such as an HTML error page sent with status 200.
    /// </summary>
    public static JsonDocument Parse(AgencyResponse response)
    {
        try
        {
            return JsonDocument.Parse(response.Payload);
        }
        catch (JsonException e)
        {
            var what = response.IsMediaType("html") ? "the body is an HTML page, probably an error page"
                : response.IsMediaType("xml") ? "the body is XML"
                : e.Message;
            throw new AgencyResponseException($"{response.Url} did not return valid JSON ({response.MediaType ?? "no content type"}): {what}", e);
        }
    }

    /// <summary>The next page's URL as written in a page (absolute, or relative to the page's URL).</summary>
    public static Uri? Resolve(AgencyResponse response, string? link) =>
        string.IsNullOrWhiteSpace(link) ? null : new Uri(response.RequestUrl, link);

    /// <summary>Fails when a next link points to a page already fetched (an endless loop).</summary>
    public static void EnsureNew(HashSet<Uri> visited, Uri next, AgencyResponse response)
    {
        if (!visited.Add(next))
        {
            throw new AgencyResponseException($"{response.Url}: the next link points back to a page already fetched ({UrlRedaction.Redact(next)}); paging would never end");
        }
    }
}
