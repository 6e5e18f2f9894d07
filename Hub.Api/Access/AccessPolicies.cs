using System.Security.Claims;
using Hub.Worker.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Hub.Api.Access;

/// <summary>
/// Who may call what (README, Access). Reads of the open data stay anonymous. Raw payloads, quarantine and run
/// details hold unmasked personal data (Decree 13/2023): <see cref="Auditor"/>. Connector actions, replays and
/// waivers: <see cref="Operator"/>; an operator key also passes <see cref="Auditor"/>, since an operator decides
/// replays and resumes from what the quarantine and the runs show. Pushes and "no change" confirmations:
/// <see cref="Agency"/>, for the key's own agency only (Art. 4.4), which the endpoints check against the dataset.
/// </summary>
public static class AccessPolicies
{
    public const string Auditor = "auditor";
    public const string Operator = "operator";
    public const string Agency = "agency";

    /// <summary>Run details: staff who may read raw data, or the agency whose dataset the run belongs to.</summary>
    public const string AuditorOrAgency = "auditor-or-agency";

    private static readonly Dictionary<string, (string[] Roles, string Description)> Policies = new(StringComparer.Ordinal)
    {
        [Auditor] = ([KeyRoles.Auditor, KeyRoles.Operator], "an auditor or operator key"),
        [Operator] = ([KeyRoles.Operator], "an operator key"),
        [Agency] = ([KeyRoles.Agency], "the key of the dataset's agency"),
        [AuditorOrAgency] = ([KeyRoles.Auditor, KeyRoles.Operator, KeyRoles.Agency], "an auditor or operator key, or the key of the dataset's agency"),
    };

    /// <summary>API key authentication (the default scheme) and the policies above.</summary>
    public static IServiceCollection AddHubAccess(this IServiceCollection services)
    {
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        var authorization = services.AddAuthorizationBuilder();
        foreach (var (name, (roles, _)) in Policies)
        {
            authorization.AddPolicy(name, policy => policy.RequireRole(roles));
        }

        services.AddSingleton<ApiKeys>();
        return services;
    }

    /// <summary>The OpenAPI document names the API key scheme, and each protected operation requires it and says which key.</summary>
    public static void DescribeSecurity(OpenApiOptions openApi)
    {
        ArgumentNullException.ThrowIfNull(openApi);
        openApi.AddDocumentTransformer(AddSecuritySchemeAsync);
        openApi.AddOperationTransformer(AddSecurityRequirementAsync);
    }

    public static string Describe(string policy) => Policies.TryGetValue(policy, out var found) ? found.Description : $"a key allowed by policy '{policy}'";

    /// <summary>The agency of an agency key, or null for a staff key.</summary>
    public static string? AgencyOf(ClaimsPrincipal user) =>
        user.IsInRole(KeyRoles.Agency) ? user.Identity?.Name : null;

    /// <summary>The answer to an agency key used on <paramref name="subject"/> (a dataset, a run) of another agency.</summary>
    public static ProblemHttpResult OtherAgency(string agency, string subject) =>
        TypedResults.Problem($"the key belongs to agency '{agency}'; {subject} is managed by another agency", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    /// <summary>Who acted, as recorded with a waiver or a confirmation: the key's holder and its id.</summary>
    public static string Signature(ClaimsPrincipal user) =>
        $"{user.Identity?.Name} (key {user.FindFirstValue(ClaimTypes.NameIdentifier)})";

    private static Task AddSecuritySchemeAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ApiKeyAuthenticationHandler.SchemeName] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key issued with './hub agencies issue-key AGENCY' or './hub staff issue-key NAME --role operator|auditor', " +
                          "as 'Authorization: Bearer <key>' (or 'X-Api-Key: <key>'). Missing or unknown: 401; wrong role or agency: 403.",
        };
        return Task.CompletedTask;
    }

    private static Task AddSecurityRequirementAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().LastOrDefault()?.Policy is not { } policy)
        {
            return Task.CompletedTask;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, context.Document)] = [] });
        operation.Description = $"Needs {Describe(policy)}. {operation.Description}".TrimEnd();
        return Task.CompletedTask;
    }
}
