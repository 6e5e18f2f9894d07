using System.Text.RegularExpressions;

namespace Hub.Connectors.Configuration;

/// <summary>
/// Resolves <c>${env:NAME}</c> and <c>${env:NAME:-default}</c> references in configuration values, so
/// that addresses and secrets stay out of <c>connectors.d/</c> files.
/// </summary>
public static partial class EnvironmentReferences
{
    [GeneratedRegex(@"\$\{env:(?<name>[A-Za-z_][A-Za-z0-9_]*)(:-(?<default>[^}]*))?\}")]
    private static partial Regex Reference();

    /// <summary>Replaces every reference; names the variables that are unset and have no default.</summary>
    public static string Resolve(string value, Func<string, string?> lookup, out IReadOnlyList<string> missing)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        var unset = new List<string>();
        var resolved = Reference().Replace(value, match =>
        {
            var found = lookup(match.Groups["name"].Value);
            if (!string.IsNullOrEmpty(found))
            {
                return found;
            }

            if (match.Groups["default"].Success)
            {
                return match.Groups["default"].Value;
            }

            unset.Add(match.Groups["name"].Value);
            return string.Empty;
        });
        missing = unset;
        return resolved;
    }
}
