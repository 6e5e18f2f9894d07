using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Web;
using Hub.Core.Catalog;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace Hub.Connectors.Http;

/// <summary>One answer of an agency: what lineage records (URL with secrets redacted, time, status, bytes, SHA-256) and what parsing needs.</summary>
public sealed record AgencyResponse(Uri Url, Uri RequestUrl, DateTimeOffset FetchedAt, int StatusCode, byte[] Payload, string PayloadSha256, string? MediaType, string? CharSet, HttpResponseHeaders Headers)
{
    public bool IsMediaType(params string[] fragments) =>
        MediaType is not null && fragments.Any(f => MediaType.Contains(f, StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// Sends one request of a source to its agency: authentication added, the agency's resilience pipeline
/// selected (retry, circuit breaker, rate limit, attempt timeout), the source's overall timeout applied,
/// the body read up to <see cref="ConnectorOptions.MaxPageBytes"/>. Errors name the URL with secrets redacted.
/// </summary>
public sealed class AgencyHttp(IHttpClientFactory httpClientFactory, OAuth2TokenCache tokens, IOptions<ConnectorOptions> options, TimeProvider time)
{
    public const string HttpClientName = "agency";

    /// <summary>The request option that selects the agency's resilience pipeline; see <see cref="PipelineKey"/>.</summary>
    public static readonly HttpRequestOptionsKey<string> PipelineOption = new("hub.agency-pipeline");

    /// <summary>The pipeline key of an agency: its code and rate limit, so each agency gets its own circuit and limiter.</summary>
    public static string PipelineKey(AgencyEndpoint agency)
    {
        ArgumentNullException.ThrowIfNull(agency);
        return string.Create(CultureInfo.InvariantCulture, $"{agency.Code}|{agency.RateLimit.RequestsPerSecond}|{agency.RateLimit.ConcurrentRequests}");
    }

    public static RateLimitDefinition ParseRateLimit(string pipelineKey)
    {
        ArgumentNullException.ThrowIfNull(pipelineKey);
        var parts = pipelineKey.Split('|');
        return parts.Length != 3
            ? RateLimitDefinition.Unlimited
            : new RateLimitDefinition(
                double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var rps) ? rps : null,
                int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var concurrent) ? concurrent : null);
    }

    public async Task<AgencyResponse> SendAsync(SourceDefinition source, HttpMethod method, Uri url, Func<HttpContent?> content, Action<HttpRequestMessage>? configure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(content);
        var auth = source.Auth;
        var requestUrl = auth is { Kind: AuthKind.ApiKey, QueryParameter: { } parameter } ? WithQuery(url, parameter, auth.Token!.Reveal()) : url;
        var shownUrl = UrlRedaction.Redact(requestUrl, auth.QueryParameter);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(source.Timeout);
        var fetchedAt = time.GetUtcNow();
        using var request = new HttpRequestMessage(method, requestUrl) { Content = content() };
        request.Options.Set(PipelineOption, PipelineKey(source.Agency));
        configure?.Invoke(request);
        HttpResponseMessage response;
        try
        {
            await AuthenticateAsync(request, auth, timeout.Token);
            response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AgencyResponseException($"{shownUrl} did not answer within {source.Timeout.TotalSeconds:0.#} s");
        }
        catch (TimeoutRejectedException e)
        {
            throw new AgencyResponseException($"{shownUrl} did not answer within the attempt timeout ({e.Timeout.TotalSeconds:0.#} s), retries included", e);
        }
        catch (BrokenCircuitException e)
        {
            throw new AgencyResponseException($"{shownUrl}: the circuit of agency {source.Agency.Code} is open after repeated failures; requests resume after Connectors:CircuitBreakDuration", e);
        }
        catch (RateLimiterRejectedException e)
        {
            throw new AgencyResponseException($"{shownUrl}: the rate limit of agency {source.Agency.Code} rejected the request", e);
        }
        catch (HttpRequestException e)
        {
            throw new AgencyResponseException($"{shownUrl} could not be reached: {e.Message}", e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new AgencyResponseException($"{shownUrl} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            try
            {
                var payload = await ReadLimitedAsync(response.Content, options.Value.MaxPageBytes, shownUrl, timeout.Token);
                var contentType = response.Content.Headers.ContentType;
                return new AgencyResponse(shownUrl, requestUrl, fetchedAt, (int)response.StatusCode, payload, Convert.ToHexStringLower(SHA256.HashData(payload)),
                    contentType?.MediaType, contentType?.CharSet, response.Headers);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new AgencyResponseException($"{shownUrl} did not send its body within {source.Timeout.TotalSeconds:0.#} s");
            }
            catch (HttpRequestException e)
            {
                throw new AgencyResponseException($"{shownUrl} broke off its answer: {e.Message}", e);
            }
        }
    }

    private async Task AuthenticateAsync(HttpRequestMessage request, AuthDefinition auth, CancellationToken cancellationToken)
    {
        switch (auth.Kind)
        {
            case AuthKind.ApiKey when auth.QueryParameter is null:
                request.Headers.TryAddWithoutValidation(auth.Header ?? "X-API-Key", auth.Token!.Reveal());
                break;
            case AuthKind.Bearer:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", auth.Token!.Reveal());
                break;
            case AuthKind.Basic:
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes($"{auth.Username}:{auth.Password?.Reveal()}")));
                break;
            case AuthKind.OAuth2:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetTokenAsync(auth, cancellationToken));
                break;
        }
    }

    /// <summary><paramref name="url"/> with query parameter <paramref name="name"/> set to <paramref name="value"/> (other parameters kept).</summary>
    public static Uri WithQuery(Uri url, string name, string value) => WithQuery(url, [(name, value)]);

    /// <summary>
    /// <paramref name="url"/> with <paramref name="parameters"/> set (other parameters kept), percent-encoded
    /// except for <c>$</c>, so OData's <c>$filter</c> and <c>$top</c> go out as written.
    /// </summary>
    public static Uri WithQuery(Uri url, IEnumerable<(string Name, string Value)> parameters)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(parameters);
        var builder = new UriBuilder(url);
        var query = HttpUtility.ParseQueryString(builder.Query);
        foreach (var (name, value) in parameters)
        {
            query[name] = value;
        }

        builder.Query = string.Join('&', query.AllKeys.Select(key => key is null
            ? Escape(query[key]!)
            : $"{Escape(key)}={Escape(query[key] ?? string.Empty)}"));
        return builder.Uri;
    }

    private static string Escape(string text) => Uri.EscapeDataString(text).Replace("%24", "$", StringComparison.Ordinal);

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
