using System.Web;

namespace Hub.Connectors.Http;

/// <summary>
/// Takes secrets out of URLs before they are recorded (run requests, logs, errors): the values of query
/// parameters that carry keys or tokens become <c>***</c>, and so does a password in the user info.
/// </summary>
public static class UrlRedaction
{
    public const string Mask = "***";

    private static readonly HashSet<string> SecretParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "api_key", "apikey", "api-key", "key", "token", "access_token", "auth", "client_secret", "password", "secret", "signature", "sig",
    };

    public static Uri Redact(Uri url, string? extraSecretParameter = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        var builder = new UriBuilder(url);
        var changed = false;
        if (builder.Password.Length > 0)
        {
            builder.Password = Mask;
            changed = true;
        }

        if (builder.Query.Length > 1)
        {
            var query = HttpUtility.ParseQueryString(builder.Query);
            foreach (var name in query.AllKeys.OfType<string>())
            {
                if (SecretParameters.Contains(name) || string.Equals(name, extraSecretParameter, StringComparison.OrdinalIgnoreCase))
                {
                    query[name] = Mask;
                    changed = true;
                }
            }

            if (changed)
            {
                builder.Query = query.ToString()!.Replace("%2a%2a%2a", Mask, StringComparison.Ordinal);
            }
        }

        return changed ? builder.Uri : url;
    }
}
