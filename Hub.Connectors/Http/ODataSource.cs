using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Hub.Core.Catalog;

namespace Hub.Connectors.Http;

/// <summary>
/// Fetches an OData v4 entity set: records from <c>value</c>, the next page from <c>@odata.nextLink</c>;
/// when the service sends no next link and <c>page_size</c> is set, <c>$top</c>/<c>$skip</c> until a short page.
/// </summary>
public sealed class ODataSource(AgencyHttp http) : IRecordSource
{
    public string Kind => "odata";

    public async IAsyncEnumerable<FetchedPage> FetchAsync(SourceDefinition definition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var source = (ODataSourceDefinition)definition;
        var url = QueryUrl(source, 0);
        var visited = new HashSet<Uri> { url };
        long skip = 0;
        for (var pageIndex = 0; ; pageIndex++)
        {
            if (pageIndex >= source.MaxPages)
            {
                throw new AgencyResponseException($"more than {source.MaxPages} pages (max_pages) at {UrlRedaction.Redact(source.Url)}; raise max_pages if the dataset is really that large");
            }

            var response = await http.SendAsync(source, HttpMethod.Get, url, () => null, r =>
            {
                r.Headers.Accept.ParseAdd("application/json;odata.metadata=minimal");
                r.Headers.TryAddWithoutValidation("OData-Version", "4.0");
            }, cancellationToken);
            var document = JsonPages.Parse(response);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Array)
            {
                document.Dispose();
                throw new AgencyResponseException($"{response.Url} is not an OData collection: the response has no 'value' array");
            }

            var records = value.EnumerateArray().ToList();
            skip += records.Count;
            Uri? next = null;
            if (document.RootElement.TryGetProperty("@odata.nextLink", out var link) && link.ValueKind == JsonValueKind.String)
            {
                next = JsonPages.Resolve(response, link.GetString());
            }
            else if (source.PageSize is { } size && records.Count >= size)
            {
                next = QueryUrl(source, skip);
            }

            yield return FetchedPage.FromJson(response, document, records);
            if (next is null || records.Count == 0)
            {
                yield break;
            }

            JsonPages.EnsureNew(visited, next, response);
            url = next;
        }
    }

    internal static Uri QueryUrl(ODataSourceDefinition source, long skip)
    {
        var parameters = new List<(string, string)>();
        if (source.Filter is not null)
        {
            parameters.Add(("$filter", source.Filter));
        }

        if (source.Select is not null)
        {
            parameters.Add(("$select", source.Select));
        }

        if (source.PageSize is { } size)
        {
            parameters.Add(("$top", size.ToString(CultureInfo.InvariantCulture)));
            parameters.Add(("$skip", skip.ToString(CultureInfo.InvariantCulture)));
        }

        return parameters.Count == 0 ? source.Url : AgencyHttp.WithQuery(source.Url, parameters);
    }
}
