using System.Globalization;
using Hub.Core.Catalog;
using Hub.Core.Freshness;
using Microsoft.Extensions.Time.Testing;

namespace Hub.Core.Tests.Freshness;

/// <summary>Short ways to write Vietnam times and histories in the freshness tests.</summary>
internal static class Vn
{
    /// <summary>"2026-02-15 23:59" read as Vietnam time (+07:00).</summary>
    public static DateTimeOffset At(string local) =>
        DateTimeOffset.ParseExact(local + " +07:00", ["yyyy-MM-dd HH:mm zzz", "yyyy-MM-dd HH:mm:ss zzz", "yyyy-MM-dd zzz"], CultureInfo.InvariantCulture, DateTimeStyles.None);

    public static DateOnly Day(string day) => DateOnly.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static FakeTimeProvider Clock(string local) => new(At(local));

    public static DatasetHistory History(
        string registered,
        UpdateCycle cycle = UpdateCycle.Monthly,
        IEnumerable<PublicationFact>? published = null,
        IEnumerable<DateTimeOffset>? runs = null,
        IEnumerable<Waiver>? waivers = null,
        IEnumerable<NoChangeConfirmation>? confirmations = null,
        IEnumerable<CycleChange>? laterCycles = null,
        string dataset = "ds",
        string agency = "AG") =>
        new(dataset, agency, At(registered),
            [new CycleChange(cycle, At(registered)), .. laterCycles ?? []],
            [.. published ?? []], [.. runs ?? []], [.. waivers ?? []], [.. confirmations ?? []]);

    public static PublicationFact Published(long version, string local, params string[] covers) =>
        new(version, At(local), covers.Length == 0 ? null : covers.ToHashSet());
}
