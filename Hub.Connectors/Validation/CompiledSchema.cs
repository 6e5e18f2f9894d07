using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Hub.Connectors.Pipeline;
using Hub.Core.Text;
using NJsonSchema;
using NJsonSchema.Validation;
using NJsonSchema.Validation.FormatValidators;

namespace Hub.Connectors.Validation;

/// <summary>
/// A dataset's JSON Schema compiled once into checks that run on the <see cref="JsonElement"/> itself. It only answers
/// "certainly valid as NJsonSchema 11 judges it"; any other answer sends the record to NJsonSchema, which gives the
/// verdict and the reasons. Only the keywords NJsonSchema is known to apply in a way reproduced here compile
/// (<see cref="TryCompile"/>); a schema with any other keyword is left to NJsonSchema alone. The limits (numbers,
/// lengths, patterns, formats, required properties) are read from NJsonSchema's own model of the schema, so both
/// read the schema alike, and the format checks are NJsonSchema's own format validators.
/// </summary>
/// <remarks>
/// What NJsonSchema does and this reproduces: it validates a Newtonsoft token parsed from the record's text, where a
/// number with a fraction or an exponent (<c>1.0</c>, <c>1e3</c>) is a float, not an integer; numbers are compared as
/// <see cref="decimal"/> (a float converted from its <see cref="double"/>); string lengths count UTF-16 code units;
/// <c>pattern</c> is <see cref="Regex.IsMatch(string, string)"/> without options; a property that is null is not
/// checked when its schema allows null; the string, number and array keywords apply to values of that kind whatever
/// the declared type. Whatever this cannot decide the same way (an integer beyond <see cref="long"/>, a number beyond
/// <see cref="decimal"/> or <see cref="double"/>, a property given twice, a string that is not valid UTF-16, an
/// enumeration against a non-string value) is not "certainly valid".
/// </remarks>
public sealed class CompiledSchema
{
    /// <summary>Keywords that change nothing in NJsonSchema's validation.</summary>
    private static readonly FrozenSet<string> Annotations = FrozenSet.Create(StringComparer.Ordinal,
        "$schema", "$id", "id", "title", "description", "default", "examples", "$comment", "x-personal-data", "x-reference", "x-period");

    private static readonly FrozenSet<string> TypeNames = FrozenSet.Create(StringComparer.Ordinal, "array", "boolean", "integer", "null", "number", "object", "string");

    /// <summary>NJsonSchema's format validators by format name: a format not named here is not checked by NJsonSchema.</summary>
    private static readonly FrozenDictionary<string, IFormatValidator[]> Formats = new JsonSchemaValidatorSettings().FormatValidators
        .GroupBy(v => v.Format, StringComparer.Ordinal)
        .ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);

    private readonly Node root;

    private CompiledSchema(Node root) => this.root = root;

    /// <summary>
    /// Compiles <paramref name="schemaJson"/> (read by NJsonSchema as <paramref name="model"/>) when every keyword in it
    /// is one this class reproduces; null otherwise.
    /// </summary>
    public static CompiledSchema? TryCompile(string schemaJson, JsonSchema model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var document = JsonDocument.Parse(schemaJson);
        var node = Compile(document.RootElement, model);
        return node is null ? null : new CompiledSchema(node);
    }

    /// <summary>True when NJsonSchema certainly finds no error in <paramref name="record"/>; false when it may.</summary>
    public bool IsCertainlyValid(JsonElement record) => root.IsCertainlyValid(record);

    private static Node? Compile(JsonElement raw, JsonSchema model)
    {
        if (raw.ValueKind != JsonValueKind.Object || model.HasReference)
        {
            return null;
        }

        FrozenDictionary<string, Property>? properties = null;
        var required = Array.Empty<string>();
        Node? items = null;
        var allowAdditional = true;
        foreach (var keyword in raw.EnumerateObject())
        {
            var value = keyword.Value;
            switch (keyword.Name)
            {
                case var name when Annotations.Contains(name):
                    break;
                case "type" when value.ValueKind == JsonValueKind.String ? TypeNames.Contains(value.GetString()!) : value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String && TypeNames.Contains(t.GetString()!)):
                case "pattern" when value.ValueKind == JsonValueKind.String:
                case "format" when value.ValueKind == JsonValueKind.String:
                case "minLength" or "maxLength" or "minItems" or "maxItems" when value.ValueKind == JsonValueKind.Number:
                case "minimum" or "maximum" or "multipleOf" when value.ValueKind == JsonValueKind.Number:
                case "exclusiveMinimum" or "exclusiveMaximum" when value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                case "uniqueItems" when value.ValueKind == JsonValueKind.False:
                case "enum" when value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind is JsonValueKind.String or JsonValueKind.Null):
                    break;
                case "additionalProperties" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    allowAdditional = value.ValueKind == JsonValueKind.True;
                    break;
                case "required" when value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String):
                    required = [.. value.EnumerateArray().Select(v => v.GetString()!)];
                    break;
                case "properties" when value.ValueKind == JsonValueKind.Object:
                    var compiled = new Dictionary<string, Property>(StringComparer.Ordinal);
                    foreach (var property in value.EnumerateObject())
                    {
                        if (compiled.ContainsKey(property.Name) || !model.Properties.TryGetValue(property.Name, out var propertyModel)
                            || Compile(property.Value, propertyModel) is not { } propertyNode)
                        {
                            return null;
                        }

                        compiled[property.Name] = new Property(compiled.Count, Utf8Name.Of(property.Name), propertyNode, propertyModel.IsRequired, propertyModel.IsNullable(SchemaType.JsonSchema));
                    }

                    properties = compiled.ToFrozenDictionary(StringComparer.Ordinal);
                    break;
                case "items" when value.ValueKind == JsonValueKind.Object && model.Item is not null:
                    items = Compile(value, model.Item);
                    if (items is null)
                    {
                        return null;
                    }

                    break;
                default:
                    return null;
            }
        }

        // What the keywords above set in NJsonSchema's model and nothing else: anything else in it is a keyword not reproduced.
        if (model.AllowAdditionalProperties != allowAdditional || model.AdditionalPropertiesSchema is not null || model.PatternProperties.Count > 0
            || model.MinProperties > 0 || model.MaxProperties > 0 || model.AllOf.Count > 0 || model.AnyOf.Count > 0 || model.OneOf.Count > 0 || model.Not is not null
            || model.Items.Count > 0 || model.UniqueItems || model.IsNullableRaw is not null || model.Type.HasFlag(JsonObjectType.File)
            || (model.ExtensionData?.ContainsKey("nullable") ?? false) || !model.Enumeration.All(v => v is null or string))
        {
            return null;
        }

        Regex? pattern = null;
        if (!string.IsNullOrEmpty(model.Pattern))
        {
            try
            {
                // Compiled to IL: the same matches as NJsonSchema's Regex.IsMatch without options, at a third of the interpreter's cost.
                pattern = new Regex(model.Pattern, RegexOptions.Compiled);
            }
            catch (ArgumentException)
            {
                return null;
            }
        }

        properties ??= FrozenDictionary<string, Property>.Empty;
        var enumeration = model.Enumeration.Count == 0 ? null : model.Enumeration.Where(v => v is not null).Select(v => (string)v!).ToFrozenSet(StringComparer.Ordinal);
        var format = !string.IsNullOrEmpty(model.Format) && Formats.TryGetValue(model.Format, out var validators) ? FormatCheck(model.Format, validators) : null;
        // A required name that is not one of the properties (NJsonSchema checks it apart) is not reproduced.
        if (required.Any(r => !properties.TryGetValue(r, out var p) || !p.Required))
        {
            return null;
        }

        return new Node
        {
            Types = [.. Enum.GetValues<JsonObjectType>().Where(t => t != JsonObjectType.None && model.Type.HasFlag(t))],
            Nullable = model.IsNullable(SchemaType.JsonSchema),
            TypeAllowsNull = model.Type.HasFlag(JsonObjectType.Null),
            Enumeration = enumeration?.GetAlternateLookup<ReadOnlySpan<char>>(),
            Pattern = pattern,
            MinLength = model.MinLength,
            MaxLength = model.MaxLength,
            Format = format,
            NeedsText = enumeration is not null || pattern is not null || model.MinLength is not null || model.MaxLength is not null || format is not null,
            Minimum = model.Minimum,
            MinimumIsExclusive = model.IsExclusiveMinimum,
            Maximum = model.Maximum,
            MaximumIsExclusive = model.IsExclusiveMaximum,
            ExclusiveMinimum = model.ExclusiveMinimum,
            ExclusiveMaximum = model.ExclusiveMaximum,
            MultipleOf = model.MultipleOf,
            Properties = properties,
            Ordered = [.. properties.Values.OrderBy(p => p.Index)],
            AnyRequired = properties.Values.Any(p => p.Required),
            AllowAdditional = allowAdditional,
            Items = items,
            MinItems = model.MinItems,
            MaxItems = model.MaxItems,
        };
    }

    /// <summary>
    /// NJsonSchema's check of a format (any of its validators for the format passes the text), after a shortcut for the
    /// shapes of date and date-time the agencies send, which NJsonSchema's validators certainly pass.
    /// </summary>
    private static Func<ReadOnlySpan<char>, bool> FormatCheck(string name, IFormatValidator[] validators)
    {
        bool Reference(ReadOnlySpan<char> text)
        {
            var value = text.ToString();
            return Array.Exists(validators, v => v.IsValid(value, Newtonsoft.Json.Linq.JTokenType.String));
        }

        return name switch
        {
            "date" => text => IsIsoDate(text) || Reference(text),
            "date-time" => text => IsIsoDateTimeWithZone(text) || Reference(text),
            _ => Reference,
        };
    }

    /// <summary>
    /// <c>yyyy-MM-dd</c> in ASCII digits, a real date of the Gregorian calendar: what NJsonSchema's date check
    /// (<see cref="DateTime.TryParseExact(string, string, IFormatProvider, DateTimeStyles, out DateTime)"/> with that
    /// format in the current culture) accepts when the current culture's calendar is the Gregorian one.
    /// </summary>
    private static bool IsIsoDate(ReadOnlySpan<char> text) =>
        text.Length == 10 && text[4] == '-' && text[7] == '-'
        && TryDigits(text, 0, 4, out var year) && TryDigits(text, 5, 2, out var month) && TryDigits(text, 8, 2, out var day)
        && year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month)
        && CultureInfo.CurrentCulture.DateTimeFormat.Calendar is GregorianCalendar;

    /// <summary>
    /// <c>yyyy-MM-ddTHH:mm:ss</c>, optionally with a fraction, then <c>Z</c> or an offset <c>+hh:mm</c>, in ASCII digits:
    /// a text NJsonSchema's date-time check accepts whatever the numbers are (its last resort is the pattern
    /// <c>^\d{4}-\d{2}-\d{2}([Tt_]| )\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[\+-]\d{2}:\d{2})$</c>).
    /// </summary>
    private static bool IsIsoDateTimeWithZone(ReadOnlySpan<char> text)
    {
        if (text.Length < 20 || text[4] != '-' || text[7] != '-' || text[10] is not ('T' or 't' or '_' or ' ') || text[13] != ':' || text[16] != ':'
            || !TryDigits(text, 0, 4, out _) || !TryDigits(text, 5, 2, out _) || !TryDigits(text, 8, 2, out _)
            || !TryDigits(text, 11, 2, out _) || !TryDigits(text, 14, 2, out _) || !TryDigits(text, 17, 2, out _))
        {
            return false;
        }

        var i = 19;
        if (text[i] == '.')
        {
            var start = ++i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == start)
            {
                return false;
            }
        }

        var zone = text[i..];
        return zone is "Z" or "z"
               || (zone.Length == 6 && zone[0] is ('+' or '-') && zone[3] == ':' && TryDigits(text, i + 1, 2, out _) && TryDigits(text, i + 4, 2, out _));
    }

    private static bool TryDigits(ReadOnlySpan<char> text, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(text[i]))
            {
                return false;
            }

            value = (value * 10) + (text[i] - '0');
        }

        return true;
    }

    private sealed record Property(int Index, byte[]? Utf8Name, Node Schema, bool Required, bool Nullable);

    private sealed class Node
    {
        public required JsonObjectType[] Types { get; init; }
        public required bool Nullable { get; init; }
        public required bool TypeAllowsNull { get; init; }
        /// <summary>The enumeration's strings, looked up by the characters of a value.</summary>
        public required FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>>? Enumeration { get; init; }
        public required Regex? Pattern { get; init; }
        public required int? MinLength { get; init; }
        public required int? MaxLength { get; init; }
        public required Func<ReadOnlySpan<char>, bool>? Format { get; init; }

        /// <summary>Whether a string value's text is checked (enumeration, pattern, length or format), not only its kind.</summary>
        public required bool NeedsText { get; init; }
        public required decimal? Minimum { get; init; }
        public required bool MinimumIsExclusive { get; init; }
        public required decimal? Maximum { get; init; }
        public required bool MaximumIsExclusive { get; init; }
        public required decimal? ExclusiveMinimum { get; init; }
        public required decimal? ExclusiveMaximum { get; init; }
        public required decimal? MultipleOf { get; init; }
        public required FrozenDictionary<string, Property> Properties { get; init; }

        /// <summary><see cref="Properties"/> in the schema's order.</summary>
        public required Property[] Ordered { get; init; }
        public required bool AnyRequired { get; init; }
        public required bool AllowAdditional { get; init; }
        public required Node? Items { get; init; }
        public required int MinItems { get; init; }
        public required int MaxItems { get; init; }

        public bool IsCertainlyValid(JsonElement value)
        {
            var kind = value.ValueKind;
            if (kind == JsonValueKind.Null && Nullable)
            {
                // NJsonSchema checks neither the type nor the enumeration of a null its schema allows; properties only when the type allows null.
                return TypeAllowsNull || !AnyRequired;
            }

            var isInteger = false;
            switch (kind)
            {
                case JsonValueKind.String when !StringIsValid(value):
                case JsonValueKind.Number when !NumberIsValid(value, out isInteger):
                case JsonValueKind.Array when !ArrayIsValid(value):
                    return false;
            }

            if (Types.Length > 0 && !AnyTypeMatches(kind, isInteger))
            {
                return false;
            }

            // A string's enumeration is checked with its other string keywords.
            if (Enumeration is not null && kind != JsonValueKind.String)
            {
                return false;
            }

            return kind == JsonValueKind.Object ? ObjectIsValid(value) : TypeAllowsNull || !AnyRequired;
        }

        private bool AnyTypeMatches(JsonValueKind kind, bool isInteger)
        {
            foreach (var type in Types)
            {
                if (Matches(type, kind, isInteger))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool Matches(JsonObjectType type, JsonValueKind kind, bool isInteger) => type switch
        {
            JsonObjectType.Array => kind == JsonValueKind.Array,
            JsonObjectType.Boolean => kind is JsonValueKind.True or JsonValueKind.False,
            JsonObjectType.Integer => isInteger,
            JsonObjectType.Null => kind == JsonValueKind.Null,
            JsonObjectType.Number => kind == JsonValueKind.Number,
            JsonObjectType.Object => kind == JsonValueKind.Object,
            JsonObjectType.String => kind == JsonValueKind.String,
            _ => false,
        };

        private bool StringIsValid(JsonElement value)
        {
            // A string without escapes is read onto the stack when its text is checked at all, and not read when only its
            // kind is; any other string is read as a .NET string.
            if (Utf8String.TryGetUnescaped(value, out var utf8))
            {
                if (!NeedsText && Utf8.IsValid(utf8))
                {
                    return true;
                }

                if (utf8.Length <= Utf8String.StackBytes)
                {
                    Span<char> chars = stackalloc char[utf8.Length];
                    if (Utf8String.TryDecode(utf8, chars, out var length))
                    {
                        return TextIsValid(chars[..length]);
                    }
                }
            }

            string text;
            try
            {
                text = value.GetString()!;
            }
            catch (InvalidOperationException)
            {
                // Not valid UTF-16 (a lone surrogate): Newtonsoft reads such strings its own way.
                return false;
            }

            return TextIsValid(text);
        }

        private bool TextIsValid(ReadOnlySpan<char> text) =>
            (Enumeration is not { } enumeration || enumeration.Contains(text))
            && (Pattern is null || Pattern.IsMatch(text))
            && (MinLength is null || text.Length >= MinLength)
            && (MaxLength is null || text.Length <= MaxLength)
            && (Format is null || Format(text));

        private bool NumberIsValid(JsonElement value, out bool isInteger)
        {
            // Newtonsoft reads a number without '.', 'e' or 'E' as an integer (long, or BigInteger past long), any other as a double.
            isInteger = JsonMarshal.GetRawUtf8Value(value).IndexOfAny((byte)'.', (byte)'e', (byte)'E') < 0;
            decimal number;
            if (isInteger)
            {
                if (!value.TryGetInt64(out var whole))
                {
                    return false;
                }

                number = whole;
            }
            else
            {
                if (!value.TryGetDouble(out var real) || !double.IsFinite(real) || Math.Abs(real) >= 7.9e28)
                {
                    return false;
                }

                number = (decimal)real;
            }

            return (Minimum is not { } minimum || (MinimumIsExclusive ? number > minimum : number >= minimum))
                   && (Maximum is not { } maximum || (MaximumIsExclusive ? number < maximum : number <= maximum))
                   && (ExclusiveMinimum is not { } exclusiveMinimum || number > exclusiveMinimum)
                   && (ExclusiveMaximum is not { } exclusiveMaximum || number < exclusiveMaximum)
                   && (MultipleOf is not { } multipleOf || number % multipleOf == 0);
        }

        private bool ArrayIsValid(JsonElement value)
        {
            var count = value.GetArrayLength();
            if ((MinItems > 0 && count < MinItems) || (MaxItems > 0 && count > MaxItems))
            {
                return false;
            }

            if (Items is not null)
            {
                foreach (var item in value.EnumerateArray())
                {
                    if (!Items.IsCertainlyValid(item))
                    {
                        return false;
                    }
                }
            }

            return true;
        }

        private bool ObjectIsValid(JsonElement value)
        {
            // One pass over the record's properties; a schema property seen twice is left to NJsonSchema (Newtonsoft keeps the last).
            Span<bool> seen = Properties.Count <= 64 ? stackalloc bool[Properties.Count] : new bool[Properties.Count];
            var next = 0;
            foreach (var member in value.EnumerateObject())
            {
                Property? property;
                if (next < Ordered.Length && Ordered[next].Utf8Name is { } expected && member.NameEquals(expected))
                {
                    property = Ordered[next];
                }
                else if (!Properties.TryGetValue(member.Name, out property))
                {
                    if (!AllowAdditional)
                    {
                        return false;
                    }

                    continue;
                }

                next = property.Index + 1;

                if (seen[property.Index])
                {
                    return false;
                }

                seen[property.Index] = true;
                if ((member.Value.ValueKind != JsonValueKind.Null || !property.Nullable) && !property.Schema.IsCertainlyValid(member.Value))
                {
                    return false;
                }
            }

            if (AnyRequired)
            {
                foreach (var property in Properties.Values)
                {
                    if (property.Required && !seen[property.Index])
                    {
                        return false;
                    }
                }
            }

            return true;
        }
    }
}
