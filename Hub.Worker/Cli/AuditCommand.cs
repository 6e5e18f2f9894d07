using Hub.Worker.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Worker.Cli;

/// <summary><c>audit verify</c>: recomputes the audit hash chain and every version's row digests; exits 1 at the first broken link.</summary>
public static class AuditCommand
{
    public static async Task<int> RunAsync(string[] args, IConfiguration configuration, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args is not ["verify"])
        {
            await error.WriteLineAsync("usage: hub audit verify");
            return 2;
        }

        if (string.IsNullOrWhiteSpace(configuration.GetConnectionString(StoreServiceCollectionExtensions.ConnectionStringName)))
        {
            await error.WriteLineAsync($"ConnectionStrings:{StoreServiceCollectionExtensions.ConnectionStringName} is not set (./hub audit verify sets it from the running services)");
            return 2;
        }

        // A store from before the audit chain gets its migrations first; the chain then starts empty.
        await using var services = new ServiceCollection().AddLogging().AddHubStore(configuration).BuildServiceProvider();
        await services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
        var result = await services.GetRequiredService<AuditChain>().VerifyAsync(CancellationToken.None);
        if (result.Intact)
        {
            await output.WriteLineAsync($"audit chain intact: {result.Entries} entries verified (runs, versions and the rows each version published)");
            return 0;
        }

        await error.WriteLineAsync($"audit chain BROKEN at {result.FirstBroken}");
        return 1;
    }
}
