using System.Reflection;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>
/// Applies the versioned SQL files embedded from <c>Store/Migrations</c> (<c>NNNN_name.sql</c>), each in its
/// own transaction, under a PostgreSQL advisory lock so that processes starting at once apply each file once.
/// </summary>
public sealed partial class Migrator(NpgsqlDataSource dataSource, ILogger<Migrator> logger, TimeProvider time)
{
    private const long LockId = 0x4855425F4D494752; // "HUB_MIGR"

    [GeneratedRegex(@"\.(?<version>\d{4})_(?<name>[a-z0-9_]+)\.sql$")]
    private static partial Regex MigrationName();

    public static IReadOnlyList<(int Version, string Name, string ResourceName)> Migrations { get; } =
        typeof(Migrator).Assembly.GetManifestResourceNames()
            .Select(r => (Match: MigrationName().Match(r), Resource: r))
            .Where(m => m.Match.Success)
            .Select(m => (int.Parse(m.Match.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture), m.Match.Groups["name"].Value, m.Resource))
            .OrderBy(m => m.Item1)
            .ToList();

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_lock(@LockId)", new { LockId }, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                create schema if not exists hub;
                create table if not exists hub.schema_migrations (
                    version int primary key, name text not null, applied_at timestamptz not null)
                """, cancellationToken: cancellationToken));
            var applied = (await connection.QueryAsync<int>(new CommandDefinition("select version from hub.schema_migrations", cancellationToken: cancellationToken))).ToHashSet();
            foreach (var (version, name, resource) in Migrations.Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await connection.ExecuteAsync(new CommandDefinition(ReadResource(resource), transaction: transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "insert into hub.schema_migrations (version, name, applied_at) values (@version, @name, @now)",
                    new { version, name, now = time.GetUtcNow() }, transaction, cancellationToken: cancellationToken));
                await transaction.CommitAsync(cancellationToken);
                LogApplied(logger, version, name);
            }
        }
        finally
        {
            await connection.ExecuteAsync("select pg_advisory_unlock(@LockId)", new { LockId });
        }
    }

    private static string ReadResource(string resource)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
                           ?? throw new InvalidOperationException($"migration resource {resource} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Version:0000} {Name}")]
    private static partial void LogApplied(ILogger logger, int version, string name);
}
