using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Core.Catalog;
using Hub.Core.Time;

namespace Hub.Connectors.Pipeline;

/// <summary>
/// Applies a dataset's <c>mapping</c> to a source record: renames, constants and type conversions (with the
/// Vietnamese formats: <c>dd/MM/yyyy</c> dates, <c>1.234.567,89</c> numbers). A value that cannot be
/// converted is an error with the field and the reason; the record is then quarantined, never dropped.
/// </summary>
public static class RecordMapper
{
    private static readonly CultureInfo Vietnamese = CultureInfo.GetCultureInfo("vi-VN");

    private static readonly string[] TrueWords = ["true", "1", "yes", "y", "có", "co", "x"];
    private static readonly string[] FalseWords = ["false", "0", "no", "n", "không", "khong", ""];

    /// <summary>The mapped record (the record itself when the mapping is the identity), and the conversion errors.</summary>
    public static JsonElement Map(JsonElement record, MappingDefinition mapping, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(errors);
        if (mapping.Fields.Count == 0 && mapping.KeepUnmapped)
        {
            return record;
        }

        if (record.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"the record is a JSON {record.ValueKind.ToString().ToLowerInvariant()}, not an object, so it cannot be mapped");
            return record;
        }

        var result = new JsonObject();
        if (mapping.KeepUnmapped)
        {
            var consumed = mapping.Fields.Select(f => f.From).OfType<string>().ToHashSet(StringComparer.Ordinal);
            foreach (var property in record.EnumerateObject().Where(p => !consumed.Contains(p.Name)))
            {
                result[property.Name] = JsonNode.Parse(property.Value.GetRawText());
            }
        }

        foreach (var field in mapping.Fields)
        {
            JsonElement? value = field.Constant is not null
                ? JsonSerializer.SerializeToElement(field.Constant)
                : record.TryGetProperty(field.From!, out var found) ? found : null;
            if (value is null)
            {
                continue;
            }

            if (TryConvert(value.Value, field, out var converted, out var problem))
            {
                result[field.Target] = converted;
            }
            else
            {
                errors.Add($"field '{field.Target}'{(field.From is null || field.From == field.Target ? "" : $" (from '{field.From}')")}: {problem}");
            }
        }

        return JsonSerializer.SerializeToElement(result);
    }

    public static bool TryConvert(JsonElement value, FieldMapping field, out JsonNode? converted, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(field);
        problem = null;
        converted = null;
        if (value.ValueKind == JsonValueKind.Null || field.Type == FieldType.Keep)
        {
            converted = JsonNode.Parse(value.GetRawText());
            return true;
        }

        var text = value.ValueKind == JsonValueKind.String ? value.GetString()!.Trim() : value.GetRawText();
        if (text.Length == 0 && field.Type != FieldType.Text)
        {
            return true;
        }

        switch (field.Type)
        {
            case FieldType.Text:
                converted = JsonValue.Create(value.ValueKind == JsonValueKind.String ? value.GetString() : text);
                return true;
            case FieldType.WholeNumber when TryNumber(value, text, field.Formats, out var number) && decimal.Truncate(number) == number && number is >= long.MinValue and <= long.MaxValue:
                converted = JsonValue.Create((long)number);
                return true;
            case FieldType.Number when TryNumber(value, text, field.Formats, out var number):
                converted = JsonValue.Create(number);
                return true;
            case FieldType.TrueFalse when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                converted = JsonValue.Create(value.GetBoolean());
                return true;
            case FieldType.TrueFalse when TrueWords.Contains(text.ToLowerInvariant()) || FalseWords.Contains(text.ToLowerInvariant()):
                converted = JsonValue.Create(TrueWords.Contains(text.ToLowerInvariant()));
                return true;
            case FieldType.Date when TryDate(text, field.Formats, out var date):
                converted = JsonValue.Create(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                return true;
            case FieldType.DateTime when TryDateTime(text, field.Formats, out var moment):
                converted = JsonValue.Create(moment.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture));
                return true;
            default:
                var formats = field.Formats.Count == 0 ? "" : $" with format {string.Join(" or ", field.Formats.Select(f => $"'{f}'"))}";
                problem = $"'{Shorten(text)}' is not a valid {Name(field.Type)}{formats}";
                return false;
        }
    }

    private static string Name(FieldType type) => type switch
    {
        FieldType.WholeNumber => "integer",
        FieldType.TrueFalse => "boolean",
        FieldType.DateTime => "date-time",
        _ => type.ToString().ToLowerInvariant(),
    };

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    /// <summary>Numbers: JSON numbers as they are; text in the invariant style, or with format <c>vi</c> as <c>1.234.567,89</c>.</summary>
    private static bool TryNumber(JsonElement value, string text, IReadOnlyList<string> formats, out decimal number)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            return value.TryGetDecimal(out number);
        }

        var culture = formats.Contains("vi") ? Vietnamese : CultureInfo.InvariantCulture;
        var styles = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite;
        if (formats.Contains("vi"))
        {
            styles |= NumberStyles.AllowThousands;
            text = text.Replace(' ', '.').Replace('\u00A0', '.');
        }

        return decimal.TryParse(text, styles, culture, out number);
    }

    private static bool TryDate(string text, IReadOnlyList<string> formats, out DateOnly date) =>
        DateOnly.TryParseExact(text, formats.Count == 0 ? ["yyyy-MM-dd"] : [.. formats], CultureInfo.InvariantCulture, DateTimeStyles.None, out date)
        || (formats.Count == 0 && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var moment) && (date = DateOnly.FromDateTime(moment.Date)) != default);

    /// <summary>Date-times: ISO 8601, or the formats given; without an offset the time is Vietnam time.</summary>
    private static bool TryDateTime(string text, IReadOnlyList<string> formats, out DateTimeOffset moment)
    {
        if (formats.Count == 0 ? DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out moment)
                               : DateTimeOffset.TryParseExact(text, [.. formats], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out moment))
        {
            var hasOffset = text.EndsWith('Z') || text.LastIndexOfAny(['+', '-']) > 10;
            if (!hasOffset)
            {
                var local = new DateTimeOffset(moment.DateTime, VietnamTime.Zone.GetUtcOffset(moment.DateTime));
                moment = local;
            }

            return true;
        }

        return false;
    }
}
