using Hub.Worker.Access;
using Microsoft.Extensions.Configuration;

namespace Hub.Worker.Cli;

/// <summary>
/// <c>agencies issue-key AGENCY</c>, <c>agencies revoke-key KEY_ID</c> and <c>agencies keys [AGENCY]</c>: the keys
/// agencies push data and confirm "no change" with (see <see cref="KeysCommand"/>).
/// </summary>
public static class AgenciesCommand
{
    private static readonly KeysCommand.Family Agencies = new(
        "agencies",
        "usage: hub agencies issue-key <AGENCY> | revoke-key <key-id> | keys [AGENCY]",
        [KeyRoles.Agency],
        "agency",
        "give it to the agency now. It pushes to POST /api/ingest/<dataset> and confirms 'no change' of its own datasets.");

    public static Task<int> RunAsync(string[] args, IConfiguration configuration, TextWriter output, TextWriter error) =>
        KeysCommand.RunAsync(Agencies, args, configuration, output, error);
}
