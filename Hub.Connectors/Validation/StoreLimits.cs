using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Hub.Core.Catalog;
using Hub.Core.Records;

namespace Hub.Connectors.Validation;

/// <summary>
/// What the store cannot hold although the dataset's JSON Schema allows it: a number beyond PostgreSQL's <c>numeric</c>,
/// the type of a number column and of every number in a jsonb column. NJsonSchema reads a number as a double, so
/// <c>1e-20000</c> (0 to it) is valid; the staging COPY then refused it, and the whole run failed. Its record is rejected
/// with a reason instead, like any other record the hub cannot publish.
/// </summary>
public sealed class StoreLimits
{
    /// <summary>The most digits <c>numeric</c> keeps before the decimal point (a base-10000 weight of 32,767).</summary>
    public const int MaxIntegerDigits = 131072;

    /// <summary>The most digits <c>numeric</c> keeps after the decimal point (its display scale).</summary>
    public const int MaxFractionDigits = 16383;

    // PostgreSQL's numeric_in refuses an exponent from INT_MAX / 2 on, in either direction, whatever the digits.
    private const long MaxExponent = (int.MaxValue / 2) - 1;

    private readonly (string Name, byte[] Utf8)[] numberColumns;

    public StoreLimits(DatasetSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        numberColumns = schema.Columns
            .Where(c => c.Personal != PersonalData.Drop && c.Type is ColumnType.Number or ColumnType.Json)
            .Select(c => (c.Name, Encoding.UTF8.GetBytes(c.Name)))
            .ToArray();
    }

    /// <summary>The reasons <paramref name="record"/> (valid against its schema) cannot be stored; empty when it can.</summary>
    public IReadOnlyList<string> Check(JsonElement record)
    {
        List<string>? errors = null;
        foreach (var (name, utf8) in numberColumns)
        {
            if (record.TryGetProperty(utf8, out var value))
            {
                Check(value, name, ref errors);
            }
        }

        return errors ?? (IReadOnlyList<string>)[];
    }

    /// <summary>
    /// Whether PostgreSQL's <c>numeric</c> reads the JSON number <paramref name="number"/>: at most
    /// <see cref="MaxIntegerDigits"/> digits before the decimal point and <see cref="MaxFractionDigits"/> after it, counted
    /// as <c>numeric_in</c> counts them (the digits written after the point, less the exponent, even for a zero).
    /// </summary>
    public static bool NumericHolds(ReadOnlySpan<byte> number)
    {
        if (number.IndexOfAny((byte)'e', (byte)'E') < 0 && number.Length <= MaxFractionDigits)
        {
            return true;
        }

        if (!JsonNumberText.TryParse(number, out var parts) || Math.Abs(parts.Exponent) > MaxExponent
            || parts.FractionDigits.Length - parts.Exponent > MaxFractionDigits)
        {
            return false;
        }

        // The power of ten of the first digit that is not zero; a zero is held.
        long power;
        if (parts.IntegerDigits.IndexOfAnyExcept((byte)'0') is var first and >= 0)
        {
            power = parts.IntegerDigits.Length - 1 - first;
        }
        else if (parts.FractionDigits.IndexOfAnyExcept((byte)'0') is var firstAfterPoint and >= 0)
        {
            power = -1 - firstAfterPoint;
        }
        else
        {
            return true;
        }

        return power + parts.Exponent < MaxIntegerDigits;
    }

    private static void Check(JsonElement value, string path, ref List<string>? errors)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when !NumericHolds(JsonMarshal.GetRawUtf8Value(value)):
                var text = value.GetRawText();
                (errors ??= []).Add(
                    $"#/{path}: the number {(text.Length > 40 ? text[..40] + "…" : text)} is beyond what the store holds " +
                    $"(PostgreSQL's numeric: at most {MaxIntegerDigits:N0} digits before the decimal point and {MaxFractionDigits:N0} after it)");
                break;
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    Check(property.Value, $"{path}/{property.Name}", ref errors);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    Check(item, $"{path}/{index++}", ref errors);
                }

                break;
        }
    }
}
