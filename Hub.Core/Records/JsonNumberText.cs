namespace Hub.Core.Records;

/// <summary>
/// The parts of a JSON number's text: its sign, the digits before the decimal point and after it, and its exponent.
/// What the store's checks of numbers read: whether PostgreSQL's <c>numeric</c> holds one, and its binary form.
/// </summary>
public readonly ref struct JsonNumberText
{
    /// <summary>The largest exponent kept: a larger one, either way, is read as this (no number that large fits anywhere).</summary>
    public const long MaxExponent = int.MaxValue;

    private JsonNumberText(bool negative, ReadOnlySpan<byte> integer, ReadOnlySpan<byte> fraction, long exponent)
    {
        Negative = negative;
        IntegerDigits = integer;
        FractionDigits = fraction;
        Exponent = exponent;
    }

    public bool Negative { get; }

    /// <summary>The digits before the decimal point (at least one).</summary>
    public ReadOnlySpan<byte> IntegerDigits { get; }

    /// <summary>The digits after the decimal point; empty without one.</summary>
    public ReadOnlySpan<byte> FractionDigits { get; }

    /// <summary>The exponent; 0 without one, ±<see cref="MaxExponent"/> beyond it.</summary>
    public long Exponent { get; }

    /// <summary>
    /// Reads <paramref name="json"/> as a JSON number (<c>-?digits(.digits)?([eE][+-]?digits)?</c>, nothing else); false
    /// when it is not one.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out JsonNumberText number)
    {
        number = default;
        var negative = json.Length > 0 && json[0] == (byte)'-';
        var at = negative ? 1 : 0;
        var integer = Digits(json, at);
        if (integer == 0)
        {
            return false;
        }

        var digits = json.Slice(at, integer);
        at += integer;
        ReadOnlySpan<byte> fraction = default;
        if (at < json.Length && json[at] == (byte)'.')
        {
            var count = Digits(json, at + 1);
            if (count == 0)
            {
                return false;
            }

            fraction = json.Slice(at + 1, count);
            at += 1 + count;
        }

        long exponent = 0;
        if (at < json.Length && json[at] is (byte)'e' or (byte)'E')
        {
            at++;
            var exponentNegative = at < json.Length && json[at] == (byte)'-';
            if (at < json.Length && json[at] is (byte)'+' or (byte)'-')
            {
                at++;
            }

            var count = Digits(json, at);
            if (count == 0)
            {
                return false;
            }

            foreach (var digit in json.Slice(at, count))
            {
                exponent = Math.Min((exponent * 10) + (digit - '0'), MaxExponent);
            }

            exponent = exponentNegative ? -exponent : exponent;
            at += count;
        }

        if (at != json.Length)
        {
            return false;
        }

        number = new JsonNumberText(negative, digits, fraction, exponent);
        return true;
    }

    /// <summary>How many ASCII digits begin <paramref name="json"/> at <paramref name="at"/>.</summary>
    private static int Digits(ReadOnlySpan<byte> json, int at)
    {
        if (at >= json.Length)
        {
            return 0;
        }

        var length = json[at..].IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        return length < 0 ? json.Length - at : length;
    }
}
