using System.Globalization;
using Hub.Worker.Ingest;
using Hub.Worker.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.Worker.Cli;

/// <summary>
/// <c>agencies issue-key AGENCY</c> (prints the new key once), <c>agencies revoke-key KEY_ID</c> and
/// <c>agencies keys [AGENCY]</c> (ids and dates, never keys): the credentials agencies push data with.
/// </summary>
public static class AgenciesCommand
{
    private const string Usage = "usage: hub agencies issue-key <AGENCY> | revoke-key <key-id> | keys [AGENCY]";

    public static async Task<int> RunAsync(string[] args, IConfiguration configuration, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args is not (["issue-key", _] or ["revoke-key", _] or ["keys"] or ["keys", _]))
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        var connectionString = configuration.GetConnectionString(StoreServiceCollectionExtensions.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await error.WriteLineAsync($"ConnectionStrings:{StoreServiceCollectionExtensions.ConnectionStringName} is not set (./hub agencies sets it from the running services)");
            return 2;
        }

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new Migrator(dataSource, NullLogger<Migrator>.Instance, TimeProvider.System).MigrateAsync(CancellationToken.None);
        var keys = new AgencyKeys(dataSource, TimeProvider.System, new AuditChain(dataSource, TimeProvider.System));
        switch (args)
        {
            case ["issue-key", var agency]:
                var issued = await keys.IssueAsync(agency.Trim(), CancellationToken.None);
                await output.WriteLineAsync($"key id: {issued.KeyId}");
                await output.WriteLineAsync($"agency: {issued.AgencyCode}");
                await output.WriteLineAsync($"key:    {issued.Key}");
                await output.WriteLineAsync("The key is shown this once and stored only as a SHA-256 hash: give it to the agency now.");
                await output.WriteLineAsync("The agency pushes with 'Authorization: Bearer <key>' (or 'X-Api-Key: <key>') to POST /api/ingest/<dataset>.");
                return 0;
            case ["revoke-key", var keyId]:
                if (await keys.RevokeAsync(keyId.Trim(), CancellationToken.None))
                {
                    await output.WriteLineAsync($"key {keyId} revoked");
                    return 0;
                }

                await error.WriteLineAsync($"no active key with id '{keyId}' (see: hub agencies keys)");
                return 1;
            default:
                foreach (var key in await keys.ListAsync(args.Length > 1 ? args[1] : null, CancellationToken.None))
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{key.KeyId}  {key.AgencyCode,-12}  created {key.CreatedAt:yyyy-MM-dd HH:mm}Z  {(key.RevokedAt is { } revoked ? $"revoked {revoked:yyyy-MM-dd HH:mm}Z" : "active")}"));
                }

                return 0;
        }
    }
}
