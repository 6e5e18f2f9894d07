using System.Globalization;
using Hub.Core.Freshness;
using Hub.Worker.Freshness;
using Hub.Worker.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hub.Worker.Cli;

/// <summary>
/// <c>report quarterly YEAR QUARTER [--format json|csv|html] [--lang vi|en] [--out FILE] [--as-of TIME] [--generated-at TIME]</c>:
/// the quarterly compliance report from the store, to a file or standard output.
/// </summary>
public static class ReportCommand
{
    public const string Usage = "usage: hub report quarterly YEAR Q1..Q4 [--format json|csv|html] [--lang vi|en] [--out FILE] [--as-of ISO-8601] [--generated-at ISO-8601]";

    /// <summary>Runs the command against the store named by the configuration (<c>ConnectionStrings:Hub</c>), writing to standard output.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var cli = HubHost.CreateBuilder([]);
        cli.Logging.ClearProviders();
        cli.Services.AddHubStore(cli.Configuration).AddFreshness(cli.Configuration, withMonitor: false);
        using var host = cli.Build();
        await host.Services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
        await using var stdout = Console.OpenStandardOutput();
        return await RunAsync(
            args, host.Services.GetRequiredService<FreshnessStore>(), host.Services.GetRequiredService<TimeProvider>(), stdout, Console.Error, CancellationToken.None);
    }

    public static async Task<int> RunAsync(string[] args, FreshnessStore store, TimeProvider time, Stream output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Length < 3 || args[0] != "quarterly" || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var year)
            || !QuarterlyReport.TryParseQuarter(year, args[2], out var quarter))
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 3; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length || args[i] is not ("--format" or "--lang" or "--out" or "--as-of" or "--generated-at"))
            {
                await error.WriteLineAsync($"unknown or incomplete option '{args[i]}'\n{Usage}");
                return 2;
            }

            options[args[i]] = args[i + 1];
        }

        if (!ReportRenderer.TryParseFormat(options.GetValueOrDefault("--format"), out var format))
        {
            await error.WriteLineAsync($"--format must be json, csv or html\n{Usage}");
            return 2;
        }

        var now = time.GetUtcNow();
        if (!TryInstant(options.GetValueOrDefault("--as-of"), now, out var cutOff) || !TryInstant(options.GetValueOrDefault("--generated-at"), now, out var generatedAt))
        {
            await error.WriteLineAsync($"--as-of and --generated-at take an ISO-8601 time with its offset, e.g. 2026-10-20T00:00:00+07:00\n{Usage}");
            return 2;
        }

        var english = string.Equals(options.GetValueOrDefault("--lang"), "en", StringComparison.OrdinalIgnoreCase);
        var report = await QuarterlyReport.RenderAsync(store, quarter, format, english, cutOff, generatedAt, cancellationToken);
        if (options.TryGetValue("--out", out var file))
        {
            await File.WriteAllBytesAsync(file, report.Content, cancellationToken);
            await error.WriteLineAsync($"wrote {file} ({report.Content.Length} bytes)");
        }
        else
        {
            await output.WriteAsync(report.Content, cancellationToken);
        }

        return 0;
    }

    private static bool TryInstant(string? text, DateTimeOffset now, out DateTimeOffset instant)
    {
        instant = now;
        return text is null || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant);
    }
}
