using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hub.Connectors.Tests.Demo;

namespace Hub.Connectors.Tests.Validation;

/// <summary>
/// Every dataset schema of the repository (connectors.d, the bench schema that <c>./hub</c> writes, the schemas in the
/// tests' sources) and one schema using the other keywords, each with a corpus of records: a valid one, then one change
/// at a time to every property (removed, other types, null, numbers at and around the limits, 1 against 1.0, strings at
/// the length limits in UTF-16 units with decomposed letters and emoji, dates and date-times in many shapes, pattern and
/// enumeration misses), then whole-record oddities (extra, repeated and null properties, records that are not objects).
/// </summary>
internal static partial class SchemaCorpus
{
    /// <summary>Keywords no dataset schema uses yet: closed and nested objects, arrays, limits, other formats, a nullable enumeration.</summary>
    public const string FeatureSchema =
        """
        {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "required": ["ma", "ten", "so_luong"],
          "additionalProperties": false,
          "properties": {
            "ma": { "type": "string", "pattern": "^[A-Z]{2}-\\d{3}$" },
            "ten": { "type": "string", "minLength": 2, "maxLength": 12, "pattern": "^[\\p{L} ]+$", "x-personal-data": "mask" },
            "so_luong": { "type": "integer", "minimum": 0, "maximum": 1000 },
            "ty_le": { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "multipleOf": 0.25 },
            "email": { "type": "string", "format": "email" },
            "trang_web": { "type": ["string", "null"], "format": "uri" },
            "ma_dinh_danh": { "type": "string", "format": "uuid", "x-personal-data": "hash" },
            "loai": { "enum": ["Phường", "Xã", "Thị trấn", null] },
            "dia_chi": {
              "type": "object",
              "required": ["ma_xa"],
              "additionalProperties": false,
              "properties": {
                "ma_xa": { "type": "string", "pattern": "^[0-9]{5}$" },
                "thon": { "type": "string", "maxLength": 20 }
              }
            },
            "the": { "type": "array", "minItems": 1, "maxItems": 3, "items": { "type": "string", "minLength": 1 } },
            "thanh_vien": {
              "type": ["array", "null"],
              "items": {
                "type": "object",
                "required": ["ho_ten"],
                "properties": { "ho_ten": { "type": "string" }, "nam_sinh": { "type": "integer", "minimum": 1900 } }
              },
              "x-personal-data": "drop"
            },
            "dien_tich": { "type": ["number", "null"], "minimum": 0.5 },
            "ngay": { "type": ["string", "null"], "format": "date" },
            "gio": { "type": "string", "format": "time" },
            "bat_ky": { "description": "any value" }
          }
        }
        """;

    /// <summary>Strings written as UTF-8, as agencies mostly send them, rather than escaped.</summary>
    private static readonly JsonSerializerOptions Utf8Text = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly Dictionary<string, string> PatternSamples = new(StringComparer.Ordinal)
    {
        ["^[0-9]{2}$"] = "58",
        ["^[0-9]{3}$"] = "582",
        ["^[0-9]{5}$"] = "22738",
        ["^[0-9]{12}$"] = "058123456789",
        ["^HS-[0-9]{4}-[0-9]{7}$"] = "HS-2024-0000001",
        ["^[A-Z]{2}-\\d{3}$"] = "NT-001",
        ["^[\\p{L} ]+$"] = "Đô Vinh",
    };

    /// <summary>Values every property is tried with.</summary>
    private static readonly string[] Values =
    [
        // Other types, and numbers written in other ways.
        "null", "true", "false", "[]", "[\"a\"]", "[\"a\",\"b\",\"c\",\"d\"]", "[1]", "[\"\"]", "[{\"ho_ten\":\"A\"}]", "[{\"nam_sinh\":1990}]", "[{\"ho_ten\":\"A\",\"nam_sinh\":1800}]",
        "{}", "{\"b\":1,\"a\":{\"d\":\"é\",\"c\":[2,1]}}", "{\"ma_xa\":\"22738\"}", "{\"ma_xa\":\"22738\",\"khac\":1}",
        "0", "-0", "1", "-1", "42", "1.0", "1.5", "-1.5", "4.50", "1e3", "1E3", "1e-2", "2.5E+2", "0.25", "0.5", "0.75", "1000", "1000.0", "1001", "1900", "1899",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "12345678901234567890", "79228162514264337593543950335", "1e28", "8e28", "1e300", "1e400", "-1e400",
        "0.1", "0.30000000000000004", "123456789.123456789", "1.0000000000000001", "0.49999999999999999", "0.50000000000000001",
        // Text: blank, Vietnamese composed and decomposed, emoji, escapes, digits of other scripts.
        "\"\"", "\" \"", "\"a\"", "\"ab\"", "\"text\"", "\"12\"", "\"1.5\"", "\"true\"", "\"null\"", "\"Nguyễn Văn Ánh\"", "\"Phường Đô Vinh\"", "\"😀\"", "\"😀😀\"", "\"e\\u0301\"",
        "\"<a href='x'>&amp;</a>\"", "\"line\\nbreak\\ttab\\u0007\"", "\"quote\\\" backslash\\\\ slash\\/\"", "\"\\ud83d\"",
        "\"22738\"", "\"2273\"", "\"227380\"", "\"22738 \"", "\"22738\\n\"", "\"\\u0662\\u0662\\u0667\\u0663\\u0668\"", "\"58\"", "\"582\"", "\"058123456789\"", "\"05812345678\"",
        "\"HS-2024-0000001\"", "\"HS-24-0000001\"", "\"hs-2024-0000001\"", "\"NT-001\"", "\"nt-001\"", "\"NT-\\u0661\\u0662\\u0663\"",
        "\"Phường\"", "\"Xã\"", "\"xã\"", "\"Thị trấn\"", "\"Tỉnh\"", "\"Thành phố Trung ương\"", "\"moi\"", "\"MOI\"", "\"dang_xu_ly\"", "\"tu_choi\"",
        // Dates and date-times.
        "\"2024-02-29\"", "\"2026-02-29\"", "\"2024-02-30\"", "\"2024-04-31\"", "\"2024-12-31\"", "\"0001-01-01\"", "\"9999-12-31\"", "\"31/12/2024\"", "\"2024-1-1\"", "\"20240101\"",
        "\"2024-12\"", "\"2024\"", "\"2024-13-01\"", "\"2024-00-10\"", "\" 2024-01-01\"", "\"2024-01-01 \"", "\"٢٠٢٤-٠١-٠١\"",
        "\"2024-05-01T08:30:00\"", "\"2024-05-01T08:30:00+07:00\"", "\"2024-05-01T08:30:00-03:30\"", "\"2024-05-01T08:30:00Z\"", "\"2024-05-01T08:30:00z\"", "\"2024-05-01t08:30:00Z\"",
        "\"2024-05-01T08:30:00.1Z\"", "\"2024-05-01T08:30:00.123456789Z\"", "\"2024-05-01T08:30:00.1234567+07:00\"", "\"2024-05-01 08:30:00\"", "\"2024-05-01 08:30:00+07:00\"",
        "\"2024-05-01_08:30:00+07:00\"", "\"2024-05-01T08:30\"", "\"2024-05-01T08\"", "\"2024-05-01T25:00:00Z\"", "\"2024-05-01T23:59:60Z\"", "\"2026-02-29T08:30:00Z\"",
        "\"2024-05-01T08:30:00+0700\"", "\"2024-05-01T08:30:00+07\"", "\"2024-05-01T08:30:00+14:00\"", "\"2024-05-01T08:30:00+15:00\"", "\"2024-05-01Z\"", "\"01/05/2024 08:30\"",
        "\"0001-01-01T00:00:00+07:00\"", "\"9999-12-31T23:59:59-07:00\"", "\"2024-05-01T99:99:99+99:99\"", "\"2024-05-01T08:30:00.Z\"", "\"2024-05-01T08:30:00.+07:00\"",
        "\"2024-05-01T08:30:00Z\\n\"", "\"٢٠٢٤-05-01T08:30:00Z\"", "\"2024-05-01T08:30:00+07:00:00\"", "\"0000-01-01\"", "\"1900-02-29\"", "\"2000-02-29\"",
        "\"08:30:00\"", "\"8:30\"", "\"25:00:00\"",
        // Other formats.
        "\"can.bo@ninhthuan.gov.vn\"", "\"not-an-email\"", "\"a@b\"", "\"https://ninhthuan.gov.vn/du-lieu\"", "\"ninhthuan.gov.vn\"", "\"/relative\"",
        "\"3f2504e0-4f89-11d3-9a0c-0305e82c3301\"", "\"3F2504E0-4F89-11D3-9A0C-0305E82C3301\"", "\"3f2504e04f8911d39a0c0305e82c3301\"", "\"not-a-uuid\"",
    ];

    /// <summary>
    /// The schemas, by where they come from; those of connectors.d, the bench and <see cref="FeatureSchema"/> must compile
    /// (a test's schema may use a keyword left to NJsonSchema). The raw string literals of the tests' sources that are
    /// schemas are read, except those of this folder, which holds schemas made not to compile.
    /// </summary>
    public static IEnumerable<(string Name, string Json, bool MustCompile)> Schemas()
    {
        var root = DemoAgencyProcess.RepositoryRoot();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "connectors.d"), "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            yield return (Path.GetRelativePath(root, file), File.ReadAllText(file), true);
        }

        yield return ("./hub bench schema", BenchSchema(root), true);
        yield return (nameof(FeatureSchema), FeatureSchema, true);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Path.Combine(root, "tests"), "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && Path.GetDirectoryName(f) != Path.Combine(root, "tests", "Hub.Connectors.Tests", "Validation")).Order(StringComparer.Ordinal))
        {
            foreach (Match literal in RawString().Matches(File.ReadAllText(file)))
            {
                var text = literal.Groups[1].Value;
                if (IsSchema(text) && seen.Add(JsonNode.Parse(text)!.ToJsonString()))
                {
                    yield return (Path.GetRelativePath(root, file), text, false);
                }
            }
        }
    }

    /// <summary>The schema <c>write_bench_catalogue</c> in <c>./hub</c> writes for the bench dataset.</summary>
    public static string BenchSchema(string root)
    {
        var script = File.ReadAllText(Path.Combine(root, "hub"));
        var start = script.IndexOf("ho-so.v1.json\" <<'JSON'\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "./hub no longer writes the bench schema ho-so.v1.json from a here-document");
        start = script.IndexOf('\n', start) + 1;
        return script[start..script.IndexOf("\nJSON\n", start, StringComparison.Ordinal)];
    }

    /// <summary>Records for a schema.</summary>
    public static IEnumerable<string> Records(string schemaJson)
    {
        var schema = JsonNode.Parse(schemaJson)!.AsObject();
        var valid = ValidObject(schema);
        var text = valid.ToJsonString();
        yield return text;

        foreach (var (path, propertySchema) in Properties(schema, []))
        {
            yield return Change(valid, path, null, remove: true);
            foreach (var value in Values.Concat(Boundaries(propertySchema)))
            {
                yield return Change(valid, path, value, remove: false);
            }
        }

        var extra = valid.DeepClone().AsObject();
        extra["truong_la"] = "x";
        yield return extra.ToJsonString();
        var nulls = new JsonObject();
        foreach (var name in valid.Select(p => p.Key))
        {
            nulls[name] = null;
        }

        yield return nulls.ToJsonString();

        // A property given twice (first and last wins differ), and one outside the schema given twice.
        foreach (var (name, value) in valid.Select(p => (p.Key, p.Value)))
        {
            yield return "{" + JsonSerializer.Serialize(name) + ":" + (value?.ToJsonString() ?? "null") + "," + text[1..];
            yield return "{" + JsonSerializer.Serialize(name) + ":\"khác\"," + text[1..];
        }

        yield return "{\"truong_la\":1,\"truong_la\":2," + text[1..];
        foreach (var odd in new[] { "{}", "\"22738\"", "1", "1.5", "[]", "null", "true", "[{}]", "[" + text + "]" })
        {
            yield return odd;
        }
    }

    /// <summary>
    /// A record the compiled schema leaves to NJsonSchema whatever its verdict: one with a property given twice
    /// (Newtonsoft keeps the last), a string that is not valid UTF-16 (which <see cref="JsonElement"/> cannot read) or
    /// a number beyond <see cref="decimal"/> (which NJsonSchema compares as a <see cref="double"/>, or fails on).
    /// </summary>
    public static bool IsLeftToNJsonSchema(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                return value.EnumerateObject().Any(p => !names.Add(p.Name) || IsLeftToNJsonSchema(p.Value));
            case JsonValueKind.Array:
                return value.EnumerateArray().Any(IsLeftToNJsonSchema);
            case JsonValueKind.String:
                try
                {
                    _ = value.GetString();
                    return false;
                }
                catch (InvalidOperationException)
                {
                    return true;
                }

            case JsonValueKind.Number:
                return !value.TryGetDecimal(out _);
            default:
                return false;
        }
    }

    [GeneratedRegex("\"\"\"\\s*(\\{.*?\\})\\s*\"\"\"", RegexOptions.Singleline)]
    private static partial Regex RawString();

    private static bool IsSchema(string text)
    {
        try
        {
            // A literal that gives a property twice (a record of a test) is no schema.
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) is JsonObject { } node && node["properties"] is JsonObject { Count: > 0 } properties && properties.All(p => p.Value is JsonObject);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static JsonObject ValidObject(JsonObject schema)
    {
        var record = new JsonObject();
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, property) in properties)
            {
                record[name] = ValidValue(property!.AsObject());
            }
        }

        return record;
    }

    private static JsonNode? ValidValue(JsonObject schema)
    {
        if (schema["enum"] is JsonArray values)
        {
            return values[0]?.DeepClone();
        }

        var type = schema["type"] switch
        {
            JsonArray types => types.Select(t => t!.GetValue<string>()).First(t => t != "null"),
            JsonValue single => single.GetValue<string>(),
            _ => "string",
        };
        switch (type)
        {
            case "object":
                return ValidObject(schema);
            case "array":
                return schema["items"] is JsonObject items ? new JsonArray(ValidValue(items)) : new JsonArray();
            case "integer":
                return Math.Max((long?)schema["minimum"]?.GetValue<double>() ?? 1, 1);
            case "number":
                return schema["multipleOf"] is null ? 1234.5 : 0.5;
            case "boolean":
                return true;
        }

        if (schema["pattern"] is JsonValue pattern)
        {
            return PatternSamples.TryGetValue(pattern.GetValue<string>(), out var sample)
                ? sample
                : throw new InvalidOperationException($"add a value matching the pattern {pattern} to SchemaCorpus.PatternSamples");
        }

        return schema["format"]?.GetValue<string>() switch
        {
            "date" => "2024-02-29",
            "date-time" => "2024-05-01T08:30:00+07:00",
            "time" => "08:30:00",
            "email" => "can.bo@ninhthuan.gov.vn",
            "uri" => "https://ninhthuan.gov.vn/",
            "uuid" => "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            _ => "Phường Đô Vinh",
        };
    }

    /// <summary>Every property of the schema and of its nested objects and array items, by path from the record.</summary>
    private static IEnumerable<(object[] Path, JsonObject Schema)> Properties(JsonObject schema, object[] prefix)
    {
        if (schema["properties"] is not JsonObject properties)
        {
            yield break;
        }

        foreach (var (name, property) in properties)
        {
            var propertySchema = property!.AsObject();
            object[] path = [.. prefix, name];
            yield return (path, propertySchema);
            foreach (var nested in Properties(propertySchema, path))
            {
                yield return nested;
            }

            if (propertySchema["items"] is JsonObject items)
            {
                foreach (var nested in Properties(items, [.. path, 0]))
                {
                    yield return nested;
                }
            }
        }
    }

    /// <summary>Values at and around the schema's own limits, and its enumeration in other spellings.</summary>
    private static IEnumerable<string> Boundaries(JsonObject schema)
    {
        foreach (var keyword in new[] { "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum" })
        {
            if (schema[keyword] is JsonValue limit && limit.GetValueKind() == JsonValueKind.Number)
            {
                var value = limit.GetValue<decimal>();
                foreach (var near in new[] { value - 1, value - 0.5m, value - 0.0000000001m, value, value + 0.0000000001m, value + 0.5m, value + 1 })
                {
                    var text = near.ToString(CultureInfo.InvariantCulture);
                    yield return text;
                    yield return text.Contains('.', StringComparison.Ordinal) ? text + "0" : text + ".0";
                    yield return text + "e0";
                }
            }
        }

        foreach (var keyword in new[] { "minLength", "maxLength" })
        {
            if (schema[keyword] is JsonValue limit)
            {
                var length = limit.GetValue<int>();
                foreach (var size in new[] { length - 1, length, length + 1 }.Where(s => s >= 0))
                {
                    yield return JsonSerializer.Serialize(new string('a', size));
                    // Decomposed Vietnamese letters: more UTF-16 units than letters; emoji: two units each; a letter with a
                    // combining mark; each escaped and as UTF-8.
                    foreach (var text in new[]
                             {
                                 string.Concat(Enumerable.Repeat("ệ", size)).Normalize(NormalizationForm.FormD),
                                 string.Concat(Enumerable.Repeat("ệ", (size + 2) / 3)).Normalize(NormalizationForm.FormD),
                                 string.Concat(Enumerable.Repeat("😀", (size + 1) / 2)),
                                 string.Concat(Enumerable.Repeat("e\u0301", (size + 1) / 2)),
                             })
                    {
                        yield return JsonSerializer.Serialize(text);
                        yield return JsonSerializer.Serialize(text, Utf8Text);
                    }
                }
            }
        }

        if (schema["enum"] is JsonArray values)
        {
            foreach (var value in values.Where(v => v is not null && v.GetValueKind() == JsonValueKind.String).Select(v => v!.GetValue<string>()))
            {
                yield return JsonSerializer.Serialize(value, Utf8Text);
                yield return JsonSerializer.Serialize(value.Normalize(NormalizationForm.FormD));
                yield return JsonSerializer.Serialize(value.Normalize(NormalizationForm.FormD), Utf8Text);
                yield return JsonSerializer.Serialize(value.ToUpperInvariant());
                yield return JsonSerializer.Serialize(value + " ");
            }
        }
    }

    private static string Change(JsonObject valid, object[] path, string? value, bool remove)
    {
        var record = valid.DeepClone().AsObject();
        JsonNode? parent = record;
        for (var i = 0; i < path.Length - 1; i++)
        {
            parent = path[i] is int index ? parent is JsonArray { Count: > 0 } array ? array[Math.Min(index, array.Count - 1)] : null : parent?[(string)path[i]];
        }

        if (parent is JsonObject target)
        {
            var name = (string)path[^1];
            if (remove)
            {
                target.Remove(name);
            }
            else
            {
                // Spliced as text: the value keeps its spelling (1.0, 1e3, escapes) as an agency would send it.
                target[name] = "\u0001SPLICE\u0001";
                return record.ToJsonString().Replace("\"\\u0001SPLICE\\u0001\"", value, StringComparison.Ordinal);
            }
        }

        return record.ToJsonString();
    }
}
