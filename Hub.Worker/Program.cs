using Hub.Worker;
using Hub.Worker.Cli;
using Microsoft.Extensions.Hosting;

switch (args)
{
    case ["connectors", .. var rest]:
        return await ConnectorsCommand.RunAsync(rest, Console.Out, Console.Error);
    case ["audit", .. var rest]:
        return await AuditCommand.RunAsync(rest, Host.CreateApplicationBuilder().Configuration, Console.Out, Console.Error);
    case ["agencies", .. var rest]:
        return await AgenciesCommand.RunAsync(rest, Host.CreateApplicationBuilder().Configuration, Console.Out, Console.Error);
    case ["staff", .. var rest]:
        return await StaffCommand.RunAsync(rest, Host.CreateApplicationBuilder().Configuration, Console.Out, Console.Error);
    case ["report", .. var rest]:
        return await ReportCommand.RunAsync(rest);
}

// The content root is the binary's folder, not the working directory: .NET watches the content root and everything below
// it for changes to appsettings files, and a working directory that holds busy files (the PostgreSQL data under .hub/
// when started by ./hub) kept a thread of each process reading their change events (docs/performance.md).
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddHubWorker(builder.Configuration);
await builder.Build().RunAsync();
return 0;
