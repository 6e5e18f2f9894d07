using System.Globalization;
using System.Text.RegularExpressions;

namespace Hub.Core.Catalog;

/// <summary>
/// Incremental sync of a polled dataset (<c>incremental:</c> in connectors.d): the largest value of
/// <see cref="CursorField"/> a successful run saw is kept, and the next run asks the agency only for records since
/// that value minus <see cref="Lookback"/>, in query parameter <see cref="Param"/> (through <see cref="Template"/>,
/// e.g. an OData <c>$filter</c> such as <c>NgayCapNhat ge {cursor}</c>). Incremental runs are partial: they delete only
/// the records the agency marks deleted (<see cref="DeletionRule"/>).
/// </summary>
public sealed partial record IncrementalDefinition(string CursorField, string Param, string? Template, TimeSpan Lookback)
{
    public const string Placeholder = "{cursor}";

    /// <summary>The query parameter's value for a stored cursor: the cursor minus the look-back, through the template.</summary>
    public string ParameterValue(string cursor)
    {
        var since = Since(cursor, Lookback);
        return Template is null ? since : Template.Replace(Placeholder, since, StringComparison.Ordinal);
    }

    /// <summary>
    /// A date-time cursor minus <paramref name="lookback"/>, written as it was (same offset, or none); a number or
    /// other text is sent as it is.
    /// </summary>
    public static string Since(string cursor, TimeSpan lookback)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        if (!TryParseInstant(cursor, out var instant, out var hasOffset))
        {
            return cursor;
        }

        var since = instant - lookback;
        return since.ToString(hasOffset ? "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
    }

    /// <summary>Orders cursor values: as instants when both are date-times, as numbers when both are numbers, else as text.</summary>
    public static int Compare(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (SameLayout(a, b))
        {
            return string.CompareOrdinal(a, b);
        }

        if (TryParseInstant(a, out var x, out _) && TryParseInstant(b, out var y, out _))
        {
            return x.CompareTo(y);
        }

        if (decimal.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && decimal.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            return m.CompareTo(n);
        }

        return string.CompareOrdinal(a, b);
    }

    /// <summary>
    /// Whether two values are written alike: same length, starting with a digit, digits in the same places and the same
    /// separators (<c>- : . T Z +</c> or a space) elsewhere, and the same offset after the date, as a source's cursor
    /// values nearly always are. Then their text order is their order as instants (fields of fixed width) or as numbers
    /// (no sign, as many digits on either side of the point), and the values need not be parsed: a run compares each
    /// record's cursor.
    /// </summary>
    private static bool SameLayout(string a, string b)
    {
        const int dateLength = 10; // yyyy-MM-dd: a sign from here on starts the offset (of a date-time, or of a date alone)
        if (a.Length != b.Length || a.Length == 0 || !char.IsAsciiDigit(a[0])
            || (a.AsSpan().LastIndexOfAny('+', '-') is var offset and >= dateLength && !a.AsSpan(offset).SequenceEqual(b.AsSpan(offset))))
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            var (p, q) = (a[i], b[i]);
            if (char.IsAsciiDigit(p) ? !char.IsAsciiDigit(q) : p != q || !"-:.TZ+ ".Contains(p, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(?<offset>Z|[+-]\d{2}:?\d{2})?$")]
    private static partial Regex DateTimeText();

    private static bool TryParseInstant(string text, out DateTimeOffset instant, out bool hasOffset)
    {
        instant = default;
        var match = DateTimeText().Match(text);
        hasOffset = match.Groups["offset"].Success;
        return match.Success && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out instant);
    }
}
