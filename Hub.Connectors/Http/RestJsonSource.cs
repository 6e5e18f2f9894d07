using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hub.Connectors.Configuration;
using Hub.Core.Catalog;

namespace Hub.Connectors.Http;

/// <summary>
/// Fetches every page of a REST/JSON source, following its paging style (offset, page number, cursor,
/// next URL in the body, <c>Link</c> header) until a stop condition: an empty or short page, no next
/// cursor or link, the total reached, or <c>max_pages</c> exceeded (which fails the run).
/// </summary>
public sealed partial class RestJsonSource(AgencyHttp http) : IRecordSource
{
    public string Kind => "rest";

    [GeneratedRegex("""<(?<url>[^>]*)>\s*(;[^,]*?\brel\s*=\s*"?(?<rel>[^";,]*)"?)?[^,]*""")]
    private static partial Regex LinkValue();

    public IAsyncEnumerable<FetchedPage> FetchAsync(SourceDefinition definition, CancellationToken cancellationToken) =>
        FetchAsync((RestSourceDefinition)definition, cancellationToken);

    public async IAsyncEnumerable<FetchedPage> FetchAsync(RestSourceDefinition source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var paging = source.Paging;
        var url = PageUrl(source.Url, paging, 0);
        var visited = new HashSet<Uri> { url };
        long fetched = 0;
        for (var pageIndex = 0; ; pageIndex++)
        {
            if (pageIndex >= paging.MaxPages)
            {
                throw new AgencyResponseException($"more than {paging.MaxPages} pages (max_pages) at {UrlRedaction.Redact(source.Url)}; raise paging.max_pages if the dataset is really that large");
            }

            var response = await http.SendAsync(source, HttpMethod.Get, url, () => null, r => r.Headers.Accept.ParseAdd("application/json"), cancellationToken);
            var document = JsonPages.Parse(response);
            var root = document.RootElement;
            if (JsonRecordPath.Select(root, source.RecordPath) is not { ValueKind: JsonValueKind.Array } array)
            {
                document.Dispose();
                throw new AgencyResponseException($"{response.Url}: record_path '{source.RecordPath}' does not lead to a JSON array in the response");
            }

            var records = array.EnumerateArray().ToList();
            fetched += records.Count;
            var next = records.Count == 0 || TotalReached(root, paging.TotalPath, fetched) ? null : NextUrl(source, response, root, pageIndex + 1, records.Count);
            yield return FetchedPage.FromJson(response, document, records);
            if (next is null)
            {
                yield break;
            }

            JsonPages.EnsureNew(visited, next, response);
            url = next;
        }
    }

    private static bool TotalReached(JsonElement root, string? totalPath, long fetched) =>
        totalPath is not null && JsonRecordPath.Select(root, totalPath) is { } total && total.TryGetInt64(out var count) && fetched >= count;

    private static Uri? NextUrl(RestSourceDefinition source, AgencyResponse response, JsonElement root, int nextIndex, int count)
    {
        var paging = source.Paging;
        switch (paging.Style)
        {
            case PagingStyle.Offset or PagingStyle.Page:
                return count < paging.PageSize ? null : PageUrl(source.Url, paging, nextIndex);
            case PagingStyle.Cursor:
                var token = JsonRecordPath.Select(root, paging.CursorPath!) switch
                {
                    { ValueKind: JsonValueKind.String } s => s.GetString(),
                    { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
                    _ => null,
                };
                return string.IsNullOrEmpty(token) ? null : AgencyHttp.WithQuery(source.Url, paging.CursorParameter, token);
            case PagingStyle.NextUrl:
                return JsonRecordPath.Select(root, paging.NextPath!) is { ValueKind: JsonValueKind.String } link ? JsonPages.Resolve(response, link.GetString()) : null;
            case PagingStyle.LinkHeader:
                return JsonPages.Resolve(response, NextFromLinkHeader(response));
            default:
                return null;
        }
    }

    /// <summary>The <c>rel="next"</c> target of the <c>Link</c> headers (RFC 8288), or null.</summary>
    internal static string? NextFromLinkHeader(AgencyResponse response) =>
        response.Headers.TryGetValues("Link", out var values)
            ? values.SelectMany(v => LinkValue().Matches(v))
                .Where(m => m.Groups["rel"].Value.Split(' ').Contains("next", StringComparer.OrdinalIgnoreCase))
                .Select(m => m.Groups["url"].Value)
                .FirstOrDefault()
            : null;

    internal static Uri PageUrl(Uri baseUrl, PagingDefinition paging, int pageIndex)
    {
        var size = paging.PageSize.ToString(CultureInfo.InvariantCulture);
        return paging.Style switch
        {
            PagingStyle.Offset => AgencyHttp.WithQuery(baseUrl, [(paging.OffsetParameter, ((long)pageIndex * paging.PageSize).ToString(CultureInfo.InvariantCulture)), (paging.LimitParameter, size)]),
            PagingStyle.Page => AgencyHttp.WithQuery(baseUrl, [(paging.PageParameter, (pageIndex + 1).ToString(CultureInfo.InvariantCulture)), (paging.PageSizeParameter, size)]),
            _ => baseUrl,
        };
    }
}
