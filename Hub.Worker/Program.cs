using Hub.Worker;
using Hub.Worker.Cli;
using Hub.Worker.Freshness;
using Hub.Worker.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

if (args is ["connectors", .. var rest])
{
    return ConnectorsCommand.Run(rest, Console.Out, Console.Error);
}

if (args is ["report", .. var reportArgs])
{
    var cli = Host.CreateApplicationBuilder([]);
    cli.Logging.ClearProviders();
    cli.Services.AddHubStore(cli.Configuration).AddFreshness(cli.Configuration, withMonitor: false);
    using var host = cli.Build();
    await host.Services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
    await using var stdout = Console.OpenStandardOutput();
    return await ReportCommand.RunAsync(
        reportArgs, host.Services.GetRequiredService<FreshnessStore>(), host.Services.GetRequiredService<TimeProvider>(), stdout, Console.Error, CancellationToken.None);
}

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddHubWorker(builder.Configuration);
await builder.Build().RunAsync();
return 0;
