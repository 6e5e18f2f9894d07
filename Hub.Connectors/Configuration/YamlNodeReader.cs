using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Hub.Connectors.Configuration;

/// <summary>
/// Reads typed values out of a YAML mapping and records a <see cref="ConfigError"/> with the node's
/// line for everything that is missing, mistyped or unknown, so a file reports all its problems at once.
/// </summary>
internal sealed class YamlNodeReader(string file, List<ConfigError> errors)
{
    public string File { get; } = file;

    /// <summary>Problems reported so far (of the whole file).</summary>
    public int ErrorCount => errors.Count;

    public void Error(YamlNode? node, string message, string? fix = null, string? secretDatasetId = null) =>
        errors.Add(new ConfigError(File, (int)(node?.Start.Line ?? 1), (int)(node?.Start.Column ?? 1), message, fix) { SecretDatasetId = secretDatasetId });

    /// <summary>Reports keys of <paramref name="map"/> that are not in <paramref name="known"/>, suggesting the closest.</summary>
    public void RejectUnknownKeys(YamlMappingNode map, string where, params string[] known)
    {
        foreach (var key in map.Children.Keys.OfType<YamlScalarNode>())
        {
            var name = key.Value ?? string.Empty;
            if (known.Contains(name, StringComparer.Ordinal))
            {
                continue;
            }

            var closest = known.MinBy(k => EditDistance(k, name));
            var fix = closest is not null && EditDistance(closest, name) <= 3
                ? $"did you mean '{closest}'?"
                : $"the keys of {where} are: {string.Join(", ", known)}";
            Error(key, $"unknown key '{name}' in {where}", fix);
        }
    }

    public static YamlNode? Get(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public YamlMappingNode? Mapping(YamlMappingNode parent, string key, bool required, string where)
    {
        var node = Get(parent, key);
        switch (node)
        {
            case null when required:
                Error(parent, $"{where} has no '{key}'", $"add a '{key}:' section");
                return null;
            case null:
                return null;
            case YamlMappingNode map:
                return map;
            default:
                Error(node, $"'{key}' must be a mapping of keys to values", $"indent the keys of '{key}' under it");
                return null;
        }
    }

    public string? String(YamlMappingNode map, string key, bool required, string where, string? example = null)
    {
        var node = Get(map, key);
        if (node is null)
        {
            if (required)
            {
                Error(map, $"{where} has no '{key}'", example is null ? $"add '{key}: <value>'" : $"add '{key}: {example}'");
            }

            return null;
        }

        if (node is YamlScalarNode { Value: { Length: > 0 } value })
        {
            return value;
        }

        Error(node, $"'{key}' must be a non-empty text value", example is null ? null : $"for example '{key}: {example}'");
        return null;
    }

    public int? Integer(YamlMappingNode map, string key, int min, int max)
    {
        var text = String(map, key, required: false, "");
        if (text is null)
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        Error(Get(map, key), $"'{key}' must be a whole number from {min} to {max}, not '{text}'", $"write e.g. '{key}: {Math.Max(min, 1)}'");
        return null;
    }

    public TimeSpan? Duration(YamlMappingNode map, string key)
    {
        var text = String(map, key, required: false, "");
        if (text is null)
        {
            return null;
        }

        if (TryParseDuration(text, out var value) && value > TimeSpan.Zero)
        {
            return value;
        }

        Error(Get(map, key), $"'{key}' must be a positive duration, not '{text}'", "write e.g. '30s', '2m' or '00:00:30'");
        return null;
    }

    public TEnum? Enum<TEnum>(YamlMappingNode map, string key, bool required, string where)
        where TEnum : struct, Enum
    {
        var names = System.Enum.GetNames<TEnum>().Select(ToSnakeCase).ToArray();
        var text = String(map, key, required, where, names[0]);
        if (text is null)
        {
            return null;
        }

        var index = Array.IndexOf(names, text.Trim().ToLowerInvariant().Replace('-', '_'));
        if (index >= 0)
        {
            return System.Enum.GetValues<TEnum>()[index];
        }

        Error(Get(map, key), $"'{key}' is '{text}', which is not one of: {string.Join(", ", names)}", $"use one of: {string.Join(", ", names)}");
        return null;
    }

    /// <summary>A list of text values, written as a YAML sequence or a single scalar.</summary>
    public IReadOnlyList<string>? StringList(YamlMappingNode map, string key, bool required, string where, string example)
    {
        var node = Get(map, key);
        switch (node)
        {
            case null:
                if (required)
                {
                    Error(map, $"{where} has no '{key}'", $"add '{key}: {example}'");
                }

                return null;
            case YamlScalarNode { Value: { Length: > 0 } single }:
                return [single];
            case YamlSequenceNode sequence when sequence.Children.Count > 0 &&
                                               sequence.Children.All(c => c is YamlScalarNode { Value.Length: > 0 }):
                return sequence.Children.Cast<YamlScalarNode>().Select(c => c.Value!).ToList();
            default:
                Error(node, $"'{key}' must be a field name or a list of field names", $"write '{key}: {example}'");
                return null;
        }
    }

    internal static string ToSnakeCase(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        text = text.Trim();
        var units = new (string Suffix, Func<double, TimeSpan> Make)[]
        {
            ("ms", TimeSpan.FromMilliseconds), ("s", TimeSpan.FromSeconds), ("m", TimeSpan.FromMinutes), ("h", TimeSpan.FromHours),
        };
        foreach (var (suffix, make) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) &&
                double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
            {
                value = make(amount);
                return true;
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
    }

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
