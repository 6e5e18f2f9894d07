using System.Text.Json;

namespace Hub.Connectors.Configuration;

/// <summary>The JSONPath subset that selects the record array in a page: <c>$</c> or <c>$.a.b</c>.</summary>
public static class JsonRecordPath
{
    public static bool TryParse(string path, out string[] segments)
    {
        segments = [];
        if (path == "$")
        {
            return true;
        }

        if (!path.StartsWith("$.", StringComparison.Ordinal))
        {
            return false;
        }

        segments = path[2..].Split('.');
        return segments.All(s => s.Length > 0);
    }

    /// <summary>The element at <paramref name="path"/>, or null when a segment is absent.</summary>
    public static JsonElement? Select(JsonElement root, string path)
    {
        if (!TryParse(path, out var segments))
        {
            throw new ArgumentException($"record path '{path}' is not supported", nameof(path));
        }

        var current = root;
        foreach (var segment in segments)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out current))
            {
                return null;
            }
        }

        return current;
    }
}
