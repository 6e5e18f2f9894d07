using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Hub.Core.Catalog;

namespace Hub.Connectors.Http;

/// <summary>
/// OAuth 2.0 client-credentials tokens, one per token URL, client and scope: fetched once, reused, and
/// fetched again shortly before they expire (a tenth of their lifetime, at most a minute, early), or when the
/// agency refuses one (<see cref="Forget"/>).
/// </summary>
public sealed class OAuth2TokenCache(IHttpClientFactory httpClientFactory, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<string, CachedToken> tokens = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim refreshing = new(1, 1);

    public async Task<string> GetTokenAsync(AuthDefinition auth, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auth);
        var key = Key(auth);
        if (tokens.TryGetValue(key, out var cached) && time.GetUtcNow() < cached.RefreshAt)
        {
            return cached.AccessToken;
        }

        await refreshing.WaitAsync(cancellationToken);
        try
        {
            if (tokens.TryGetValue(key, out cached) && time.GetUtcNow() < cached.RefreshAt)
            {
                return cached.AccessToken;
            }

            cached = await FetchAsync(auth, cancellationToken);
            tokens[key] = cached;
            return cached.AccessToken;
        }
        finally
        {
            refreshing.Release();
        }
    }

    /// <summary>
    /// Drops the cached token of <paramref name="auth"/> when it is <paramref name="rejected"/> (the agency refused it),
    /// so the next request fetches a new one; a token another request already replaced is kept.
    /// </summary>
    public void Forget(AuthDefinition auth, string? rejected)
    {
        ArgumentNullException.ThrowIfNull(auth);
        var key = Key(auth);
        if (tokens.TryGetValue(key, out var cached) && (rejected is null || cached.AccessToken == rejected))
        {
            tokens.TryRemove(KeyValuePair.Create(key, cached));
        }
    }

    private static string Key(AuthDefinition auth) => $"{auth.TokenUrl}|{auth.ClientId}|{auth.Scope}";

    private async Task<CachedToken> FetchAsync(AuthDefinition auth, CancellationToken cancellationToken)
    {
        var http = httpClientFactory.CreateClient(AgencyHttp.HttpClientName);
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = auth.ClientId ?? string.Empty,
            ["client_secret"] = auth.ClientSecret?.Reveal() ?? string.Empty,
        };
        if (auth.Scope is not null)
        {
            form["scope"] = auth.Scope;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, auth.TokenUrl);
        request.Content = new FormUrlEncodedContent(form);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var obtainedAt = time.GetUtcNow();
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new AgencyResponseException($"the OAuth2 token endpoint {auth.TokenUrl} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        try
        {
            using var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
            var token = body.RootElement.GetProperty("access_token").GetString()
                ?? throw new AgencyResponseException($"the OAuth2 token endpoint {auth.TokenUrl} sent an empty access_token");
            var lifetime = body.RootElement.TryGetProperty("expires_in", out var expires) && expires.TryGetInt32(out var seconds)
                ? TimeSpan.FromSeconds(seconds)
                : TimeSpan.FromMinutes(5);
            var early = TimeSpan.FromTicks(Math.Min(lifetime.Ticks / 10, TimeSpan.FromMinutes(1).Ticks));
            return new CachedToken(token, obtainedAt + lifetime - early);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new AgencyResponseException($"the OAuth2 token endpoint {auth.TokenUrl} did not send a JSON token response: {e.Message}", e);
        }
    }

    public void Dispose() => refreshing.Dispose();

    private sealed record CachedToken(string AccessToken, DateTimeOffset RefreshAt);
}
