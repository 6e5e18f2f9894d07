using System.Globalization;
using Hub.Worker.Access;
using Hub.Worker.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.Worker.Cli;

/// <summary>
/// <c>issue-key</c> (prints the new key once), <c>revoke-key KEY_ID</c> and <c>keys [HOLDER]</c> (ids and dates, never
/// keys) over <see cref="ApiKeys"/>, shared by <see cref="AgenciesCommand"/> and <see cref="StaffCommand"/>: each
/// manages only the keys of its own roles.
/// </summary>
internal static class KeysCommand
{
    /// <summary>
    /// One family of keys: the command's name, its usage, the roles it issues (one role: <c>issue-key HOLDER</c>;
    /// several: <c>issue-key HOLDER --role ROLE</c>), what the holder is called and what to tell whoever gets a key.
    /// </summary>
    internal sealed record Family(string Command, string Usage, IReadOnlyList<string> Roles, string HolderLabel, string Hint);

    public static async Task<int> RunAsync(Family family, string[] args, IConfiguration configuration, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        (string Holder, string Role)? issue = args switch
        {
            ["issue-key", var holder] when family.Roles.Count == 1 => (holder.Trim(), family.Roles[0]),
            ["issue-key", var holder, "--role", var role] when family.Roles.Count > 1 && family.Roles.Contains(role) => (holder.Trim(), role),
            _ => null,
        };
        var valid = issue is { Holder.Length: > 0 } || args is ["revoke-key", _] or ["keys"] or ["keys", _];
        if (!valid)
        {
            await error.WriteLineAsync(family.Usage);
            return 2;
        }

        var connectionString = configuration.GetConnectionString(StoreServiceCollectionExtensions.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await error.WriteLineAsync($"ConnectionStrings:{StoreServiceCollectionExtensions.ConnectionStringName} is not set (./hub {family.Command} sets it from the running services)");
            return 2;
        }

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new Migrator(dataSource, NullLogger<Migrator>.Instance, TimeProvider.System).MigrateAsync(CancellationToken.None);
        var keys = new ApiKeys(dataSource, TimeProvider.System, new AuditChain(dataSource, TimeProvider.System));
        if (issue is var (holderToIssue, roleToIssue))
        {
            var issued = await keys.IssueAsync(holderToIssue, roleToIssue, CancellationToken.None);
            await output.WriteLineAsync($"key id: {issued.KeyId}");
            await output.WriteLineAsync($"{family.HolderLabel + ":",-7} {issued.Holder}");
            await output.WriteLineAsync($"role:   {issued.Role}");
            await output.WriteLineAsync($"key:    {issued.Key}");
            await output.WriteLineAsync($"The key is shown this once and stored only as a SHA-256 hash: {family.Hint}");
            await output.WriteLineAsync("It goes in 'Authorization: Bearer <key>' (or 'X-Api-Key: <key>'); see README, Access.");
            return 0;
        }

        switch (args)
        {
            case ["revoke-key", var keyId]:
                if (await keys.RevokeAsync(keyId.Trim(), family.Roles, CancellationToken.None))
                {
                    await output.WriteLineAsync($"key {keyId} revoked");
                    return 0;
                }

                await error.WriteLineAsync($"no active {family.Command} key with id '{keyId}' (see: hub {family.Command} keys)");
                return 1;
            default:
                foreach (var key in await keys.ListAsync(family.Roles, args.Length > 1 ? args[1] : null, CancellationToken.None))
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{key.KeyId}  {key.Holder,-16}  {key.Role,-8}  created {key.CreatedAt:yyyy-MM-dd HH:mm}Z  {(key.RevokedAt is { } revoked ? $"revoked {revoked:yyyy-MM-dd HH:mm}Z" : "active")}"));
                }

                return 0;
        }
    }
}
