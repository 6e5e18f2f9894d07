using System.Collections.Specialized;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Web;
using Hub.Connectors.Configuration;
using Hub.Core.Catalog;
using Microsoft.Extensions.Options;

namespace Hub.Connectors.Http;

/// <summary>Fetches every page of a REST/JSON source, following its paging style until a stop condition.</summary>
public sealed class RestJsonSource(IHttpClientFactory httpClientFactory, IOptions<ConnectorOptions> options, TimeProvider time)
{
    public const string HttpClientName = "agency";

    public async IAsyncEnumerable<FetchedPage> FetchAsync(RestSourceDefinition source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var http = httpClientFactory.CreateClient(HttpClientName);
        var paging = source.Paging;
        for (var pageIndex = 0; ; pageIndex++)
        {
            if (pageIndex >= paging.MaxPages)
            {
                throw new AgencyResponseException($"more than {paging.MaxPages} pages (max_pages) at {source.Url}; raise paging.max_pages if the dataset is really that large");
            }

            var url = PageUrl(source.Url, paging, pageIndex);
            var page = await FetchPageAsync(http, url, source, cancellationToken);
            yield return page;
            if (paging.Style == PagingStyle.None || page.Records.Count == 0 || page.Records.Count < paging.PageSize)
            {
                yield break;
            }
        }
    }

    internal static Uri PageUrl(Uri baseUrl, PagingDefinition paging, int pageIndex)
    {
        if (paging.Style == PagingStyle.None)
        {
            return baseUrl;
        }

        var builder = new UriBuilder(baseUrl);
        NameValueCollection query = HttpUtility.ParseQueryString(builder.Query);
        var size = paging.PageSize.ToString(CultureInfo.InvariantCulture);
        if (paging.Style == PagingStyle.Offset)
        {
            query[paging.OffsetParameter] = ((long)pageIndex * paging.PageSize).ToString(CultureInfo.InvariantCulture);
            query[paging.LimitParameter] = size;
        }
        else
        {
            query[paging.PageParameter] = (pageIndex + 1).ToString(CultureInfo.InvariantCulture);
            query[paging.PageSizeParameter] = size;
        }

        builder.Query = query.ToString();
        return builder.Uri;
    }

    private async Task<FetchedPage> FetchPageAsync(HttpClient http, Uri url, RestSourceDefinition source, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(source.Timeout);
        var fetchedAt = time.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("application/json");
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AgencyResponseException($"{url} did not answer within {source.Timeout.TotalSeconds:0.#} s");
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new AgencyResponseException($"{url} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            var payload = await ReadLimitedAsync(response.Content, options.Value.MaxPageBytes, url, timeout.Token);
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(payload);
            }
            catch (JsonException e)
            {
                var mediaType = response.Content.Headers.ContentType?.MediaType ?? "no content type";
                throw new AgencyResponseException($"{url} did not return valid JSON ({mediaType}): {e.Message}", e);
            }

            var selected = JsonRecordPath.Select(document.RootElement, source.RecordPath);
            if (selected is not { ValueKind: JsonValueKind.Array } array)
            {
                document.Dispose();
                throw new AgencyResponseException($"{url}: record_path '{source.RecordPath}' does not lead to a JSON array in the response");
            }

            var records = array.EnumerateArray().ToList();
            return new FetchedPage(url, fetchedAt, (int)response.StatusCode, payload, Convert.ToHexStringLower(SHA256.HashData(payload)), document, records);
        }
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpContent content, long limit, Uri url, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > limit)
        {
            throw new AgencyResponseException($"{url} sent {content.Headers.ContentLength} bytes, more than the page limit of {limit} bytes (Connectors:MaxPageBytes)");
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new AgencyResponseException($"{url} sent more than the page limit of {limit} bytes (Connectors:MaxPageBytes)");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
