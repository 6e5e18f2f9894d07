using Hub.Worker.Access;
using Microsoft.Extensions.Configuration;

namespace Hub.Worker.Cli;

/// <summary>
/// <c>staff issue-key NAME --role operator|auditor</c>, <c>staff revoke-key KEY_ID</c> and <c>staff keys [NAME]</c>:
/// the keys of the ICT department's people (see <see cref="KeysCommand"/>, <see cref="KeyRoles"/>).
/// </summary>
public static class StaffCommand
{
    private static readonly KeysCommand.Family Staff = new(
        "staff",
        "usage: hub staff issue-key <NAME> --role operator|auditor | revoke-key <key-id> | keys [NAME]",
        KeyRoles.Staff,
        "name",
        "give it to its holder now. An auditor reads raw payloads, quarantine and run details; an operator also runs connectors, replays and waivers.");

    public static Task<int> RunAsync(string[] args, IConfiguration configuration, TextWriter output, TextWriter error) =>
        KeysCommand.RunAsync(Staff, args, configuration, output, error);
}
