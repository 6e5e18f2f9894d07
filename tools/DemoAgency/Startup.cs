using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace DemoAgency;

internal static partial class Startup
{
    /// <summary>The data file: config <c>DemoAgency:DataFile</c> (relative to the working directory), else data/dvhcvn.json next to the binary.</summary>
    public static string DataFile(IConfiguration configuration) =>
        configuration["DemoAgency:DataFile"] is { Length: > 0 } path
            ? Path.GetFullPath(path)
            : Path.Combine(AppContext.BaseDirectory, "data", "dvhcvn.json");

    /// <summary>Logs one line once the server listens: its URL(s) and record counts.</summary>
    public static void LogWhenStarted(WebApplication app, string dataFile, AdministrativeUnits units, GeneratedDataset dataset)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            ICollection<string>? addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            string urls = string.Join(", ", addresses ?? []);
            int ntDistricts = units.DistrictsOf(AdministrativeUnits.NinhThuan).Length;
            int ntWards = units.WardsOf(AdministrativeUnits.NinhThuan, null).Length;
            Started(
                app.Logger,
                urls,
                units.Provinces.Length,
                units.Districts.Length,
                units.Wards.Length,
                ntDistricts,
                ntWards,
                units.DataDate,
                dataFile,
                dataset.WardCount);
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message =
        "DemoAgency listening on {Urls}: {Provinces} provinces, {Districts} districts, {Wards} wards (Ninh Thuận: {NtDistricts} districts, "
        + "{NtWards} wards) as of {DataDate} from {DataFile}; generated datasets use {GeneratedWards} wards")]
    private static partial void Started(
        ILogger logger, string urls, int provinces, int districts, int wards, int ntDistricts, int ntWards, string? dataDate, string dataFile, int generatedWards);
}
