using Microsoft.Extensions.Hosting;

namespace Hub.Worker;

/// <summary>The host builder of the worker and of its commands.</summary>
public static class HubHost
{
    /// <summary>
    /// A host builder whose content root is the binary's folder, not the working directory: .NET watches the content root
    /// and everything below it for changes to appsettings files, and a working directory that holds busy files (the
    /// PostgreSQL data under .hub/ when started by ./hub) kept a thread of each process reading their change events
    /// (docs/performance.md).
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] args) =>
        Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
}
