using Hub.Worker;
using Hub.Worker.Cli;
using Microsoft.Extensions.Hosting;

switch (args)
{
    case ["connectors", .. var rest]:
        return await ConnectorsCommand.RunAsync(rest, Console.Out, Console.Error);
    case ["audit", .. var rest]:
        return await AuditCommand.RunAsync(rest, HubHost.CreateBuilder([]).Configuration, Console.Out, Console.Error);
    case ["agencies", .. var rest]:
        return await AgenciesCommand.RunAsync(rest, HubHost.CreateBuilder([]).Configuration, Console.Out, Console.Error);
    case ["staff", .. var rest]:
        return await StaffCommand.RunAsync(rest, HubHost.CreateBuilder([]).Configuration, Console.Out, Console.Error);
    case ["report", .. var rest]:
        return await ReportCommand.RunAsync(rest);
}

var builder = HubHost.CreateBuilder(args);
builder.Services.AddHubWorker(builder.Configuration);
await builder.Build().RunAsync();
return 0;
