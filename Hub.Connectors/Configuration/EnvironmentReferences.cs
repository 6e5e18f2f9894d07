using System.Text.RegularExpressions;

namespace Hub.Connectors.Configuration;

/// <summary>
/// Resolves <c>${env:NAME}</c>, <c>${env:NAME:-default}</c> and <c>${file:/path}</c> references in
/// configuration values, so that addresses and secrets stay out of <c>connectors.d/</c> files. A file
/// reference gives the file's text without its trailing line break (a mounted secret file).
/// </summary>
public static partial class EnvironmentReferences
{
    [GeneratedRegex(@"\$\{env:(?<name>[A-Za-z_][A-Za-z0-9_]*)(:-(?<default>[^}]*))?\}|\$\{file:(?<path>[^}]+)\}")]
    private static partial Regex Reference();

    /// <summary>True when <paramref name="value"/> holds at least one reference.</summary>
    public static bool HasReference(string value) => Reference().IsMatch(value);

    /// <summary>Replaces every reference; names the variables that are unset and have no default, and the files that cannot be read.</summary>
    public static string Resolve(string value, Func<string, string?> lookup, out IReadOnlyList<string> missing)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        var unset = new List<string>();
        var resolved = Reference().Replace(value, match =>
        {
            if (match.Groups["path"].Success)
            {
                var path = match.Groups["path"].Value;
                try
                {
                    return File.ReadAllText(path).TrimEnd('\r', '\n');
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    unset.Add($"file {path}");
                    return string.Empty;
                }
            }

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
