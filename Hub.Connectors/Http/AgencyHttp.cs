using System.Diagnostics;
using System.Globalization;
using System.Net;
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

/// <summary>What lineage records of an agency's answer (URL with secrets redacted, time, status) and what parsing needs of its headers.</summary>
public record AgencyResponseHead(Uri Url, Uri RequestUrl, DateTimeOffset FetchedAt, int StatusCode, string? MediaType, string? CharSet, HttpResponseHeaders Headers)
{
    public bool IsMediaType(params string[] fragments) =>
        MediaType is not null && fragments.Any(f => MediaType.Contains(f, StringComparison.OrdinalIgnoreCase));
}

/// <summary>An agency's answer, or one page cut from a streamed one: the head and the bytes with their SHA-256.</summary>
public sealed record AgencyResponse : AgencyResponseHead
{
    public AgencyResponse(AgencyResponseHead head, byte[] payload)
        : base(head)
    {
        ArgumentNullException.ThrowIfNull(payload);
        Payload = payload;
        PayloadSha256 = Convert.ToHexStringLower(SHA256.HashData(payload));
    }

    public byte[] Payload { get; }

    public string PayloadSha256 { get; }
}

/// <summary>
/// An agency's answer whose body is read as it arrives. More bytes than the limit fail the run with the
/// setting to raise; a read that waits longer than the source's timeout fails it too (the whole body, for a
/// page; each read, for a streamed file).
/// </summary>
public sealed class StreamedAgencyResponse : IAsyncDisposable
{
    private readonly HttpResponseMessage response;
    private readonly Stream body;
    private readonly CancellationTokenSource timeout;
    private readonly CancellationToken cancellationToken;
    private readonly TimeSpan? idleTimeout;
    private readonly TimeSpan overallTimeout;
    private readonly BodyLimit limit;
    private long received;

    internal StreamedAgencyResponse(AgencyResponseHead head, HttpResponseMessage response, Stream body, CancellationTokenSource timeout,
        TimeSpan overallTimeout, TimeSpan? idleTimeout, BodyLimit limit, CancellationToken cancellationToken)
    {
        Head = head;
        this.response = response;
        this.body = body;
        this.timeout = timeout;
        this.overallTimeout = overallTimeout;
        this.idleTimeout = idleTimeout;
        this.limit = limit;
        this.cancellationToken = cancellationToken;
    }

    public AgencyResponseHead Head { get; }

    /// <summary>Reads the next bytes of the body into <paramref name="buffer"/>; 0 at its end.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer)
    {
        if (idleTimeout is { } perRead)
        {
            timeout.CancelAfter(perRead);
        }

        int read;
        try
        {
            read = await body.ReadAsync(buffer, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AgencyResponseException(idleTimeout is { } idle
                ? $"{Head.Url} sent nothing for {idle.TotalSeconds:0.#} s"
                : $"{Head.Url} did not send its body within {overallTimeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            throw new AgencyResponseException($"{Head.Url} broke off its answer: {e.Message}", e);
        }

        if (idleTimeout is not null)
        {
            // The caller may take its time between reads (a slow writer): only a read itself is timed.
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
        }

        received += read;
        limit.Check(Head.Url, received);
        return read;
    }

    /// <summary>
    /// The whole body (within the limit) as the answer's payload. It is read in chunks kept below the large-object heap
    /// and copied once into an array of its size: a growing <see cref="MemoryStream"/> and its copy allocated three to five
    /// times the size of every page on the large-object heap, which only a full garbage collection reclaims.
    /// </summary>
    public async Task<AgencyResponse> ReadToEndAsync()
    {
        const int ChunkBytes = 64 * 1024;
        var full = new List<byte[]>();
        var chunk = new byte[ChunkBytes];
        var filled = 0;
        int read;
        while ((read = await ReadAsync(chunk.AsMemory(filled))) > 0)
        {
            filled += read;
            if (filled == ChunkBytes)
            {
                full.Add(chunk);
                chunk = new byte[ChunkBytes];
                filled = 0;
            }
        }

        var payload = new byte[(full.Count * ChunkBytes) + filled];
        for (var i = 0; i < full.Count; i++)
        {
            full[i].CopyTo(payload, i * ChunkBytes);
        }

        chunk.AsSpan(0, filled).CopyTo(payload.AsSpan(full.Count * ChunkBytes));
        return new AgencyResponse(Head, payload);
    }

    public async ValueTask DisposeAsync()
    {
        await body.DisposeAsync();
        response.Dispose();
        timeout.Dispose();
    }
}

/// <summary>How many bytes one answer may have, and the setting that raises it.</summary>
internal sealed record BodyLimit(long Bytes, string What, string Setting)
{
    public void Check(Uri url, long received)
    {
        if (received > Bytes)
        {
            throw new AgencyResponseException(string.Create(CultureInfo.InvariantCulture, $"{url} sent {received} bytes, more than the {What} limit of {Bytes} bytes ({Setting})"));
        }
    }
}

/// <summary>
/// Sends one request of a source to its agency: authentication added (an OAuth2 token the agency refuses with
/// 401 is fetched again and the request sent once more), the agency's resilience pipeline selected (retry,
/// circuit breaker, rate limit, attempt timeout), the source's timeout applied, the body read up to
/// <see cref="ConnectorOptions.MaxPageBytes"/> (a page) or streamed up to <see cref="ConnectorOptions.MaxFileBytes"/>
/// (a file). Errors name the URL with secrets redacted.
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

    /// <summary>One page: the whole answer, read within the source's timeout and the page limit.</summary>
    public async Task<AgencyResponse> SendAsync(SourceDefinition source, HttpMethod method, Uri url, Func<HttpContent?> content, Action<HttpRequestMessage>? configure, CancellationToken cancellationToken)
    {
        using var activity = ConnectorTelemetry.Source.StartActivity("fetch page", ActivityKind.Client);
        await using var answer = await OpenAsync(source, method, url, content, configure, streamed: false, cancellationToken);
        var response = await answer.ReadToEndAsync();
        activity?.SetTag("hub.bytes", response.Payload.Length);
        return response;
    }

    /// <summary>A file read as it arrives (each read within the source's timeout), up to the file limit; dispose it when done.</summary>
    public async Task<StreamedAgencyResponse> StreamAsync(SourceDefinition source, HttpMethod method, Uri url, Func<HttpContent?> content, Action<HttpRequestMessage>? configure, CancellationToken cancellationToken)
    {
        using var activity = ConnectorTelemetry.Source.StartActivity("open file", ActivityKind.Client);
        return await OpenAsync(source, method, url, content, configure, streamed: true, cancellationToken);
    }

    private async Task<StreamedAgencyResponse> OpenAsync(SourceDefinition source, HttpMethod method, Uri url, Func<HttpContent?> content, Action<HttpRequestMessage>? configure, bool streamed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(content);
        var auth = source.Auth;
        var requestUrl = auth is { Kind: AuthKind.ApiKey, QueryParameter: { } parameter } ? WithQuery(url, parameter, auth.Token!.Reveal()) : url;
        var shownUrl = UrlRedaction.Redact(requestUrl, auth.QueryParameter);
        Activity.Current?.SetTag("url.full", shownUrl.ToString());
        var limit = streamed
            ? new BodyLimit(options.Value.MaxFileBytes, "file", "Connectors:MaxFileBytes")
            : new BodyLimit(options.Value.MaxPageBytes, "page", "Connectors:MaxPageBytes");
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(source.Timeout);
        var fetchedAt = time.GetUtcNow();
        HttpResponseMessage? response = null;
        try
        {
            response = await SendOnceAsync(source, method, requestUrl, content, configure, shownUrl, timeout.Token, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized && auth.Kind == AuthKind.OAuth2)
            {
                // The agency no longer accepts the cached token (revoked, or its clock differs): one more try with a new one.
                tokens.Forget(auth, response.RequestMessage?.Headers.Authorization?.Parameter);
                response.Dispose();
                response = await SendOnceAsync(source, method, requestUrl, content, configure, shownUrl, timeout.Token, cancellationToken);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new AgencyResponseException($"{shownUrl} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            if (response.Content.Headers.ContentLength is { } length)
            {
                limit.Check(shownUrl, length);
            }

            var contentType = response.Content.Headers.ContentType;
            var head = new AgencyResponseHead(shownUrl, requestUrl, fetchedAt, (int)response.StatusCode, contentType?.MediaType, contentType?.CharSet, response.Headers);
            var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            return new StreamedAgencyResponse(head, response, body, timeout, source.Timeout, streamed ? source.Timeout : null, limit, cancellationToken);
        }
        catch
        {
            response?.Dispose();
            timeout.Dispose();
            throw;
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(SourceDefinition source, HttpMethod method, Uri requestUrl, Func<HttpContent?> content,
        Action<HttpRequestMessage>? configure, Uri shownUrl, CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, requestUrl) { Content = content() };
        request.Options.Set(PipelineOption, PipelineKey(source.Agency));
        configure?.Invoke(request);
        try
        {
            await AuthenticateAsync(request, source.Auth, timeoutToken);
            return await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeoutToken);
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
}
