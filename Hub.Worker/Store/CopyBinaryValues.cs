using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using Hub.Core.Records;

namespace Hub.Worker.Store;

/// <summary>
/// The JSON values whose PostgreSQL binary form the worker can write itself, exactly as the server would store the value
/// from its text (the forms a valid record nearly always takes): an integer for <c>bigint</c>, a number for
/// <c>numeric</c>, <c>true</c>/<c>false</c> for <c>boolean</c>, a <c>YYYY-MM-DD</c> string for <c>date</c> and an
/// RFC 3339 string with an offset for <c>timestamptz</c>. Any other value is refused (false), and the batch is then
/// staged in COPY's text format, where PostgreSQL's own input functions read it.
/// </summary>
public static class CopyBinaryValues
{
    /// <summary>Days from 0001-01-01 to PostgreSQL's epoch, 2000-01-01.</summary>
    private static readonly int EpochDay = new DateOnly(2000, 1, 1).DayNumber;

    /// <summary>Microseconds from 0001-01-01 to 2000-01-01 (UTC).</summary>
    private static readonly long EpochMicroseconds = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks / 10;

    /// <summary>The most digits or the largest exponent written here; a number beyond is left to PostgreSQL.</summary>
    private const int MaxDigits = 1000;

    /// <summary><c>bigint</c>: a JSON integer within 64 bits, as 8 bytes.</summary>
    public static bool TryInt8(ReadOnlySpan<byte> json, Span<byte> output)
    {
        if (!Utf8Parser.TryParse(json, out long value, out var consumed) || consumed != json.Length)
        {
            return false;
        }

        BinaryPrimitives.WriteInt64BigEndian(output, value);
        return true;
    }

    /// <summary><c>boolean</c>: JSON <c>true</c> or <c>false</c>, as one byte.</summary>
    public static bool TryBoolean(ReadOnlySpan<byte> json, Span<byte> output)
    {
        var value = json.SequenceEqual("true"u8);
        if (!value && !json.SequenceEqual("false"u8))
        {
            return false;
        }

        output[0] = value ? (byte)1 : (byte)0;
        return true;
    }

    /// <summary><c>date</c>: the text of a JSON string, <c>YYYY-MM-DD</c>, as the days since 2000-01-01 (4 bytes).</summary>
    public static bool TryDate(ReadOnlySpan<byte> text, Span<byte> output)
    {
        if (!TryDay(text, out var day))
        {
            return false;
        }

        BinaryPrimitives.WriteInt32BigEndian(output, day - EpochDay);
        return true;
    }

    /// <summary>
    /// <c>timestamptz</c>: the text of a JSON string, <c>YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)</c>, as the
    /// microseconds since 2000-01-01 UTC (8 bytes). PostgreSQL reads a second 60 or an hour 24 its own way, so they are
    /// refused here.
    /// </summary>
    public static bool TryTimestamptz(ReadOnlySpan<byte> text, Span<byte> output)
    {
        if (text.Length < 20 || text[10] != (byte)'T' || text[13] != (byte)':' || text[16] != (byte)':' || !TryDay(text[..10], out var day)
            || !TryDigits(text.Slice(11, 2), out var hour) || hour > 23
            || !TryDigits(text.Slice(14, 2), out var minute) || minute > 59
            || !TryDigits(text.Slice(17, 2), out var second) || second > 59)
        {
            return false;
        }

        var rest = text[19..];
        long fraction = 0;
        if (rest.Length > 0 && rest[0] == (byte)'.')
        {
            var digits = rest[1..].IndexOfAnyExceptInRange((byte)'0', (byte)'9');
            if (digits < 1)
            {
                return false;
            }

            // As PostgreSQL reads a fraction of a second: a double (strtod), times a million, rounded half to even (rint).
            fraction = (long)Math.Round(double.Parse(rest[..(1 + digits)], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture) * 1_000_000, MidpointRounding.ToEven);
            rest = rest[(1 + digits)..];
        }

        int offsetMinutes;
        if (rest.SequenceEqual("Z"u8))
        {
            offsetMinutes = 0;
        }
        else if (rest.Length == 6 && rest[0] is (byte)'+' or (byte)'-' && rest[3] == (byte)':'
                 && TryDigits(rest.Slice(1, 2), out var offsetHours) && TryDigits(rest.Slice(4, 2), out var offsetRest)
                 && offsetHours <= 14 && offsetRest <= 59)
        {
            offsetMinutes = (rest[0] == (byte)'-' ? -1 : 1) * ((offsetHours * 60) + offsetRest);
        }
        else
        {
            return false;
        }

        var local = ((((((long)day * 24) + hour) * 60) + minute - offsetMinutes) * 60) + second;
        BinaryPrimitives.WriteInt64BigEndian(output, (local * 1_000_000) + fraction - EpochMicroseconds);
        return true;
    }

    /// <summary>
    /// <c>numeric</c>: a JSON number, in PostgreSQL's binary form: base-10000 digits, their weight, the sign and the
    /// display scale, which is what <c>numeric_in</c> keeps: the digits after the point, less the exponent, at least 0
    /// (<c>1.50e1</c> is 15.0). Written into <paramref name="output"/> (room for <see cref="NumericBytes"/>); returns how
    /// many bytes, or 0 when the text is not a JSON number this writes.
    /// </summary>
    public static int TryNumeric(ReadOnlySpan<byte> json, Span<byte> output)
    {
        if (!JsonNumberText.TryParse(json, out var number) || Math.Abs(number.Exponent) > MaxDigits || number.IntegerDigits.Length + number.FractionDigits.Length > MaxDigits)
        {
            return 0;
        }

        var digits = number.IntegerDigits;
        var fraction = number.FractionDigits;
        var exponent = (int)number.Exponent;
        var (integer, fractionDigits) = (digits.Length, fraction.Length);

        // Decimal digit i of integer+fraction stands for 10^(integer - 1 - i + exponent); base-10000 digit g holds the
        // powers 4g to 4g+3.
        Span<short> groups = stackalloc short[((integer + fractionDigits) / 4) + 2];
        groups.Clear();
        var top = FloorDiv(integer - 1 + exponent, 4);
        var count = 0;
        for (var i = 0; i < integer + fractionDigits; i++)
        {
            var digit = (i < integer ? digits[i] : fraction[i - integer]) - '0';
            if (digit != 0)
            {
                var power = integer - 1 - i + exponent;
                var group = top - FloorDiv(power, 4);
                groups[group] += (short)(digit * Pow10[power - (4 * FloorDiv(power, 4))]);
                count = Math.Max(count, group + 1);
            }
        }

        var first = 0;
        while (first < count && groups[first] == 0)
        {
            first++;
        }

        var scale = Math.Max(0, fractionDigits - exponent);
        var ndigits = count - first;
        BinaryPrimitives.WriteInt16BigEndian(output, (short)ndigits);
        BinaryPrimitives.WriteInt16BigEndian(output[2..], (short)(ndigits == 0 ? 0 : top - first));
        BinaryPrimitives.WriteUInt16BigEndian(output[4..], number.Negative && ndigits > 0 ? (ushort)0x4000 : (ushort)0);
        BinaryPrimitives.WriteInt16BigEndian(output[6..], (short)scale);
        for (var g = 0; g < ndigits; g++)
        {
            BinaryPrimitives.WriteInt16BigEndian(output[(8 + (2 * g))..], groups[first + g]);
        }

        return 8 + (2 * ndigits);
    }

    /// <summary>The most bytes <see cref="TryNumeric"/> writes for a number of <paramref name="length"/> bytes of JSON.</summary>
    public static int NumericBytes(int length) => 8 + (2 * ((length / 4) + 2));

    private static readonly short[] Pow10 = [1, 10, 100, 1000];

    private static int FloorDiv(int value, int divisor) => (value / divisor) - (value % divisor < 0 ? 1 : 0);

    private static bool TryDay(ReadOnlySpan<byte> text, out int day)
    {
        day = 0;
        if (text.Length != 10 || text[4] != (byte)'-' || text[7] != (byte)'-'
            || !TryDigits(text[..4], out var year) || !TryDigits(text.Slice(5, 2), out var month) || !TryDigits(text.Slice(8, 2), out var dayOfMonth)
            || year < 1 || month is < 1 or > 12 || dayOfMonth < 1 || dayOfMonth > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        day = new DateOnly(year, month, dayOfMonth).DayNumber;
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        foreach (var b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return text.Length > 0;
    }
}
