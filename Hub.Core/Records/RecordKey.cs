using System.Globalization;
using System.Text.Json;

namespace Hub.Core.Records;

/// <summary>The business key of a record, built from the dataset's primary key fields.</summary>
public static class RecordKey
{
    /// <summary>
    /// The key as text: the value itself for a single-field key, a JSON array of the values for a
    /// composite key. Returns an error message when a key field is missing, null, an object or an array.
    /// </summary>
    public static bool TryBuild(JsonElement record, IReadOnlyList<string> primaryKey, out string key, out string? error)
    {
        ArgumentNullException.ThrowIfNull(primaryKey);
        key = string.Empty;
        error = null;
        if (record.ValueKind != JsonValueKind.Object)
        {
            error = $"record is a JSON {record.ValueKind.ToString().ToLowerInvariant()}, not an object";
            return false;
        }

        var parts = new string[primaryKey.Count];
        for (var i = 0; i < primaryKey.Count; i++)
        {
            if (!record.TryGetProperty(primaryKey[i], out var value) || !TryScalarText(value, out parts[i]))
            {
                error = $"primary key field '{primaryKey[i]}' is missing, null or not a scalar";
                return false;
            }
        }

        key = parts.Length == 1 ? parts[0] : JsonSerializer.Serialize(parts);
        return true;
    }

    private static bool TryScalarText(JsonElement value, out string text)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                text = value.GetString()!;
                return text.Length > 0;
            case JsonValueKind.Number:
                text = value.GetRawText();
                return true;
            case JsonValueKind.True:
            case JsonValueKind.False:
                text = value.GetBoolean().ToString(CultureInfo.InvariantCulture).ToLowerInvariant();
                return true;
            default:
                text = string.Empty;
                return false;
        }
    }
}
