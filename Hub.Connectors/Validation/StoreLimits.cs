using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Hub.Core.Catalog;

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
        var exponentAt = number.IndexOfAny((byte)'e', (byte)'E');
        if (exponentAt < 0 && number.Length <= MaxFractionDigits)
        {
            return true;
        }

        var mantissa = exponentAt < 0 ? number : number[..exponentAt];
        if (mantissa.Length > 0 && mantissa[0] == (byte)'-')
        {
            mantissa = mantissa[1..];
        }

        var exponent = exponentAt < 0 ? 0 : Exponent(number[(exponentAt + 1)..]);
        if (Math.Abs(exponent) > MaxExponent)
        {
            return false;
        }

        var point = mantissa.IndexOf((byte)'.');
        var integerDigits = point < 0 ? mantissa.Length : point;
        var fractionDigits = point < 0 ? 0 : mantissa.Length - point - 1;
        if (fractionDigits - exponent > MaxFractionDigits)
        {
            return false;
        }

        var first = mantissa.IndexOfAnyExcept((byte)'0', (byte)'.');
        if (first < 0)
        {
            return true; // zero
        }

        // The power of ten of the first digit that is not zero.
        var power = integerDigits - 1 - (first < integerDigits ? first : first - 1) + exponent;
        return power < MaxIntegerDigits;
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

    /// <summary>A JSON exponent's value, saturated beyond <see cref="MaxExponent"/>.</summary>
    private static long Exponent(ReadOnlySpan<byte> text)
    {
        var negative = text[0] == (byte)'-';
        var digits = text[0] is (byte)'-' or (byte)'+' ? text[1..] : text;
        long value = 0;
        foreach (var digit in digits)
        {
            value = Math.Min((value * 10) + (digit - '0'), MaxExponent + 1);
        }

        return negative ? -value : value;
    }
}
