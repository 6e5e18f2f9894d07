namespace Hub.Core.Catalog;

public enum AuthKind
{
    None,

    /// <summary>A key sent in a header or a query parameter.</summary>
    ApiKey,

    /// <summary><c>Authorization: Bearer token</c> with a fixed token.</summary>
    Bearer,

    /// <summary><c>Authorization: Basic</c> with a user name and password.</summary>
    Basic,

    /// <summary>OAuth 2.0 client credentials: a token fetched from <c>token_url</c>, cached until shortly before it expires.</summary>
    OAuth2,
}

/// <summary>How the hub authenticates to an agency. Secret values are <see cref="Secret"/>s: they never print.</summary>
public sealed record AuthDefinition
{
    public static AuthDefinition None { get; } = new();

    public AuthKind Kind { get; init; } = AuthKind.None;

    /// <summary>API key: the header that carries it (default <c>X-API-Key</c>) unless <see cref="QueryParameter"/> is set.</summary>
    public string? Header { get; init; }

    /// <summary>API key: the query parameter that carries it; its value is redacted from recorded URLs.</summary>
    public string? QueryParameter { get; init; }

    /// <summary>The API key or the bearer token.</summary>
    public Secret? Token { get; init; }

    public string? Username { get; init; }
    public Secret? Password { get; init; }

    public Uri? TokenUrl { get; init; }
    public string? ClientId { get; init; }
    public Secret? ClientSecret { get; init; }
    public string? Scope { get; init; }
}

/// <summary>A secret value from <c>${env:NAME}</c> or <c>${file:/path}</c>. <see cref="ToString"/> never shows it.</summary>
public sealed class Secret(string value)
{
    public string Reveal() => value;

    public override string ToString() => "***";

    public override bool Equals(object? obj) => obj is Secret other && string.Equals(value, other.Reveal(), StringComparison.Ordinal);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(value);
}
