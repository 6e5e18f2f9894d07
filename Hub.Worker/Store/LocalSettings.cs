using Dapper;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>PostgreSQL settings changed for the rest of a transaction only (<c>set_config(name, value, true)</c>).</summary>
internal static class LocalSettings
{
    /// <summary>The current values of <paramref name="names"/>, in their order.</summary>
    public static async Task<string[]> CurrentAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] names, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<string>(new CommandDefinition(
            "select current_setting(s.name) from unnest(@names) with ordinality s(name, n) order by s.n",
            new { names }, transaction, cancellationToken: cancellationToken))).ToArray();

    /// <summary>Sets each of <paramref name="names"/> to the value at its place in <paramref name="values"/> until the transaction ends.</summary>
    public static Task SetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] names, string[] values, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "select set_config(s.name, s.value, true) from unnest(@names, @values) s(name, value)",
            new { names, values }, transaction, cancellationToken: cancellationToken));
}
