using System.Globalization;
using Hub.Core.Catalog;

namespace Hub.Core.Freshness;

/// <summary>
/// One reporting period of an update cycle, in Vietnam calendar days: <see cref="First"/> to <see cref="Last"/>
/// inclusive. Ids: <c>2026-11-28</c> (daily), <c>2026-W14</c> (ISO week), <c>2026-M03</c>, <c>2026-Q3</c>,
/// <c>2026-H1</c>, <c>2026</c>.
/// </summary>
public readonly record struct ReportingPeriod(UpdateCycle Cycle, DateOnly First, DateOnly Last)
{
    private static readonly UpdateCycle[] Cycles =
        [UpdateCycle.Daily, UpdateCycle.Weekly, UpdateCycle.Monthly, UpdateCycle.Quarterly, UpdateCycle.HalfYearly, UpdateCycle.Yearly];

    public string Id => Cycle switch
    {
        UpdateCycle.Daily => First.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        UpdateCycle.Weekly => string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(First.ToDateTime(TimeOnly.MinValue)):0000}-W{ISOWeek.GetWeekOfYear(First.ToDateTime(TimeOnly.MinValue)):00}"),
        UpdateCycle.Monthly => string.Create(CultureInfo.InvariantCulture, $"{First.Year:0000}-M{First.Month:00}"),
        UpdateCycle.Quarterly => string.Create(CultureInfo.InvariantCulture, $"{First.Year:0000}-Q{((First.Month - 1) / 3) + 1}"),
        UpdateCycle.HalfYearly => string.Create(CultureInfo.InvariantCulture, $"{First.Year:0000}-H{((First.Month - 1) / 6) + 1}"),
        UpdateCycle.Yearly => First.Year.ToString("0000", CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException("an irregular cycle has no periods"),
    };

    /// <summary>The instant the period ends: 00:00 Vietnam time of the day after <see cref="Last"/>.</summary>
    public DateTimeOffset EndsAt => VietnamCalendar.StartOfDay(Last.AddDays(1));

    public override string ToString() => Id;

    /// <summary>The period of <paramref name="cycle"/> that contains <paramref name="day"/>.</summary>
    public static ReportingPeriod Containing(UpdateCycle cycle, DateOnly day)
    {
        switch (cycle)
        {
            case UpdateCycle.Daily:
                return new(cycle, day, day);
            case UpdateCycle.Weekly:
                var monday = day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
                return new(cycle, monday, monday.AddDays(6));
            case UpdateCycle.Monthly:
                return Months(cycle, day, 1);
            case UpdateCycle.Quarterly:
                return Months(cycle, day, 3);
            case UpdateCycle.HalfYearly:
                return Months(cycle, day, 6);
            case UpdateCycle.Yearly:
                return Months(cycle, day, 12);
            default:
                throw new ArgumentOutOfRangeException(nameof(cycle), cycle, "an irregular cycle has no periods");
        }
    }

    /// <summary>The first period of <paramref name="cycle"/> that starts on or after <paramref name="day"/>.</summary>
    public static ReportingPeriod FirstStartingOnOrAfter(UpdateCycle cycle, DateOnly day)
    {
        var period = Containing(cycle, day);
        return period.First == day ? period : period.Next();
    }

    public ReportingPeriod Next() => Containing(Cycle, Last.AddDays(1));

    /// <summary>Parses a period id (see the type's summary); the cycle follows from its form.</summary>
    public static bool TryParse(string? id, out ReportingPeriod period)
    {
        period = default;
        if (string.IsNullOrWhiteSpace(id))
        {
            return false;
        }

        id = id.Trim();
        var inv = CultureInfo.InvariantCulture;
        if (id.Length == 4 && int.TryParse(id, NumberStyles.None, inv, out var year) && year >= 1)
        {
            period = Containing(UpdateCycle.Yearly, new DateOnly(year, 1, 1));
            return true;
        }

        if (id.Length == 10 && DateOnly.TryParseExact(id, "yyyy-MM-dd", inv, DateTimeStyles.None, out var day))
        {
            period = Containing(UpdateCycle.Daily, day);
            return true;
        }

        if (id.Length < 7 || id[4] != '-' || !int.TryParse(id.AsSpan(0, 4), NumberStyles.None, inv, out year) || year < 1
            || !int.TryParse(id.AsSpan(6), NumberStyles.None, inv, out var n))
        {
            return false;
        }

        switch (id[5], id.Length)
        {
            case ('M', 8) when n is >= 1 and <= 12:
                period = Containing(UpdateCycle.Monthly, new DateOnly(year, n, 1));
                return true;
            case ('Q', 7) when n is >= 1 and <= 4:
                period = Containing(UpdateCycle.Quarterly, new DateOnly(year, ((n - 1) * 3) + 1, 1));
                return true;
            case ('H', 7) when n is 1 or 2:
                period = Containing(UpdateCycle.HalfYearly, new DateOnly(year, ((n - 1) * 6) + 1, 1));
                return true;
            case ('W', 8) when n >= 1 && n <= ISOWeek.GetWeeksInYear(year):
                period = Containing(UpdateCycle.Weekly, DateOnly.FromDateTime(ISOWeek.ToDateTime(year, n, DayOfWeek.Monday)));
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Reads a value of a dataset's period field as the days it names: a period id (see <see cref="TryParse"/>), an
    /// ISO month <c>2026-03</c>, a month <c>03/2026</c> or a date <c>15/03/2026</c> written the Vietnamese way. The
    /// result's cycle is the value's granularity (a date is a daily period).
    /// </summary>
    public static bool TryParseValue(string? value, out ReportingPeriod period)
    {
        if (TryParse(value, out period))
        {
            return true;
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var text = value.Trim();
        var inv = CultureInfo.InvariantCulture;
        if (DateOnly.TryParseExact(text, ["yyyy-MM", "M/yyyy"], inv, DateTimeStyles.None, out var month))
        {
            period = Containing(UpdateCycle.Monthly, month);
            return true;
        }

        if (DateOnly.TryParseExact(text, "d/M/yyyy", inv, DateTimeStyles.None, out var day))
        {
            period = Containing(UpdateCycle.Daily, day);
            return true;
        }

        return false;
    }

    /// <summary>
    /// The ids of the periods, of every cycle, that hold all the days a period-field value names (see
    /// <see cref="TryParseValue"/>): a date covers its day, week, month, quarter, half-year and year; a month its
    /// month and the longer periods; a year only its year. Values that are not periods cover nothing.
    /// </summary>
    public static HashSet<string> CoveredBy(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (!TryParseValue(value, out var named))
            {
                continue;
            }

            foreach (var cycle in Cycles)
            {
                var period = Containing(cycle, named.First);
                if (period.Last >= named.Last)
                {
                    covered.Add(period.Id);
                }
            }
        }

        return covered;
    }

    private static ReportingPeriod Months(UpdateCycle cycle, DateOnly day, int months)
    {
        var first = new DateOnly(day.Year, (((day.Month - 1) / months) * months) + 1, 1);
        return new(cycle, first, first.AddMonths(months).AddDays(-1));
    }
}

/// <summary>Calendar days and instants in Vietnam time (Asia/Ho_Chi_Minh).</summary>
public static class VietnamCalendar
{
    /// <summary>The Vietnam calendar day of an instant.</summary>
    public static DateOnly DayOf(DateTimeOffset instant) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, Time.VietnamTime.Zone).DateTime);

    /// <summary>00:00 Vietnam time of a day.</summary>
    public static DateTimeOffset StartOfDay(DateOnly day)
    {
        var local = day.ToDateTime(TimeOnly.MinValue);
        return new DateTimeOffset(local, Time.VietnamTime.Zone.GetUtcOffset(local));
    }

    /// <summary>An instant written in Vietnam time, e.g. <c>2026-10-15T23:59:59+07:00</c>.</summary>
    public static DateTimeOffset ToVietnam(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, Time.VietnamTime.Zone);
}
