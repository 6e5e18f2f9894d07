using Hub.Worker.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Worker.Cli;

/// <summary>
/// <c>audit verify [--anchor HASH]</c>: recomputes the audit hash chain, every version's row digests and what the
/// chain must cover; exits 1 at the first broken link, or when the anchored head (a hash written down earlier) is no
/// longer in the chain. <c>audit head</c>: prints the last entry's hash, to keep outside the store.
/// </summary>
public static class AuditCommand
{
    private const string Usage = "usage: hub audit verify [--anchor <head hash>] | head";

    public static async Task<int> RunAsync(string[] args, IConfiguration configuration, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args is not (["verify"] or ["verify", "--anchor", _] or ["head"]))
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        if (string.IsNullOrWhiteSpace(configuration.GetConnectionString(StoreServiceCollectionExtensions.ConnectionStringName)))
        {
            await error.WriteLineAsync($"ConnectionStrings:{StoreServiceCollectionExtensions.ConnectionStringName} is not set (./hub audit sets it from the running services)");
            return 2;
        }

        // A store from before the audit chain gets its migrations first; the chain then starts empty.
        await using var services = new ServiceCollection().AddLogging().AddHubStore(configuration).BuildServiceProvider();
        await services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
        var chain = services.GetRequiredService<AuditChain>();
        if (args is ["head"])
        {
            var last = await chain.HeadAsync(CancellationToken.None);
            await output.WriteLineAsync(last is null ? "audit chain empty" : HeadLine(last));
            return 0;
        }

        var result = await chain.VerifyAsync(args is [_, _, var anchor] ? anchor.Trim() : null, CancellationToken.None);
        if (result.Intact)
        {
            await output.WriteLineAsync($"audit chain intact: {result.Entries} entries verified (runs with their requests, versions with the rows they published, operator actions; every run, version, row and raw payload covered)");
            if (result.Head is { } head)
            {
                await output.WriteLineAsync(HeadLine(head));
            }

            return 0;
        }

        await error.WriteLineAsync($"audit chain BROKEN at {result.FirstBroken}");
        return 1;
    }

    private static string HeadLine(AuditHead head) =>
        $"head: entry #{head.Seq} at {head.CreatedAt.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ} {head.Hash} (keep it outside the store; later: hub audit verify --anchor {head.Hash})";
}
