using System.Security.Claims;
using System.Text.Encodings.Web;
using Hub.Worker.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Hub.Api.Access;

/// <summary>
/// Authenticates the API key in <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Api-Key: &lt;key&gt;</c> against
/// <see cref="ApiKeys"/> (agency and staff keys alike). A request without a key stays anonymous; an unknown or
/// revoked key fails. Challenges (401, with <c>WWW-Authenticate: Bearer</c>) and refusals (403) are problem details.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeys keys, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ApiKey(Request) is not { } key)
        {
            return AuthenticateResult.NoResult();
        }

        if (await keys.AuthenticateAsync(key, Context.RequestAborted) is not { } holder)
        {
            return AuthenticateResult.Fail("the API key is unknown or revoked");
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, holder.KeyId), new Claim(ClaimTypes.Name, holder.Holder), new Claim(ClaimTypes.Role, holder.Role)],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var given = ApiKey(Request) is not null;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized",
            $"{Needed()}: send it as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'; {(given ? "the key given is unknown or revoked" : "no key was given")}");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden",
            $"{Needed()}; the key of '{Context.User.Identity?.Name}' has role '{Context.User.FindFirstValue(ClaimTypes.Role)}'");
    }

    /// <summary>The key in the request, or null when it carries none.</summary>
    private static string? ApiKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        var header = request.Headers["X-Api-Key"].ToString();
        return header.Length == 0 ? null : header.Trim();
    }

    /// <summary>What the endpoint's policy asks for, in words.</summary>
    private string Needed() =>
        Context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>() is [.., { Policy: { } policy }]
            ? $"this request needs {AccessPolicies.Describe(policy)}"
            : "this request needs an API key";

    private Task WriteProblemAsync(int status, string title, string detail) =>
        problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        }).AsTask();
}
