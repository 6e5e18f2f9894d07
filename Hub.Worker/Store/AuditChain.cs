using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Hub.Core.Records;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>The outcome of recomputing the audit chain.</summary>
public sealed record AuditVerification(long Entries, string? FirstBroken)
{
    public bool Intact => FirstBroken is null;
}

/// <summary>
/// Runs and published versions form a hash chain in <c>hub.audit_log</c>: each entry's hash is the SHA-256 of
/// the previous hash and the entry's canonical JSON. A version entry also holds digests of the rows the version
/// wrote, so a row edited later in a dataset table, a run or version record changed, or an entry removed or
/// altered, breaks the chain at a place <see cref="VerifyAsync"/> names.
/// </summary>
public sealed class AuditChain(NpgsqlDataSource dataSource)
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    private const long ChainLock = 0x4855425F41554454; // "HUB_AUDT"

    // Entries are built by SQL from the stored rows, at append and again at verification, in UTC.
    private const string RunEntrySql =
        """
        select jsonb_build_object(
            'run', id, 'dataset', dataset_id, 'trigger', trigger, 'mode', mode, 'status', status,
            'started_at', started_at, 'finished_at', finished_at, 'fetched', fetched, 'valid', valid,
            'quarantined', quarantined, 'inserted', inserted, 'updated', updated, 'unchanged', unchanged,
            'deleted', deleted, 'duplicates', duplicates, 'version', version, 'error', error,
            'config_revision', config_revision, 'schema_version', schema_version)::text
        from hub.runs where id = @runId
        """;

    private const string VersionEntrySql =
        """
        select jsonb_build_object(
            'dataset', dataset_id, 'version', version, 'run', run_id, 'published_at', published_at,
            'inserted', inserted, 'updated', updated, 'deleted', deleted, 'row_count', row_count,
            'rows_digest', rows_digest, 'closed_digest', closed_digest)::text
        from hub.versions where dataset_id = @datasetId and version = @version
        """;

    /// <summary>Appends the entry of an ended run, inside the transaction that ended it.</summary>
    internal static async Task AppendRunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await UseUtcAsync(connection, transaction, cancellationToken);
        var entry = await connection.ExecuteScalarAsync<string>(new CommandDefinition(RunEntrySql, new { runId }, transaction, cancellationToken: cancellationToken));
        var datasetId = JsonDocument.Parse(entry!).RootElement.GetProperty("dataset").GetString();
        await AppendAsync(connection, transaction, "run", datasetId, runId, null, entry!, now, cancellationToken);
    }

    /// <summary>Records the digests of what <paramref name="version"/> wrote and appends its entry, inside the publishing transaction.</summary>
    internal static async Task AppendVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string datasetId, string tableName, long version, Guid runId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await UseUtcAsync(connection, transaction, cancellationToken);
        var (rows, closed) = await DigestsAsync(connection, transaction, tableName, version, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "update hub.versions set rows_digest = @rows, closed_digest = @closed where dataset_id = @datasetId and version = @version",
            new { rows, closed, datasetId, version }, transaction, cancellationToken: cancellationToken));
        var entry = await connection.ExecuteScalarAsync<string>(new CommandDefinition(VersionEntrySql, new { datasetId, version }, transaction, cancellationToken: cancellationToken));
        await AppendAsync(connection, transaction, "version", datasetId, runId, version, entry!, now, cancellationToken);
    }

    /// <summary>Recomputes every link and every version digest; names the first place that does not match.</summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await UseUtcAsync(connection, transaction, cancellationToken);
        var entries = await connection.QueryAsync<(long Seq, string Kind, string? DatasetId, Guid? RunId, long? Version, string Entry, string PrevHash, string Hash)>(new CommandDefinition(
            "select seq, kind, dataset_id, run_id, version, entry::text, prev_hash, hash from hub.audit_log order by seq",
            transaction: transaction, cancellationToken: cancellationToken));
        var previous = Genesis;
        long count = 0;
        foreach (var e in entries)
        {
            count++;
            var where = $"entry #{e.Seq} ({e.Kind} of {e.DatasetId}{(e.Version is null ? string.Empty : $" version {e.Version}")}{(e.RunId is null ? string.Empty : $", run {e.RunId}")})";
            if (e.PrevHash != previous)
            {
                return new AuditVerification(count, $"{where}: its previous hash does not match entry #{e.Seq - 1}; an entry was removed or inserted before it");
            }

            if (Hash(e.PrevHash, e.Entry) != e.Hash)
            {
                return new AuditVerification(count, $"{where}: its content does not match its hash; the audit entry was altered");
            }

            var stored = e.Kind switch
            {
                "run" => await connection.ExecuteScalarAsync<string>(new CommandDefinition(RunEntrySql, new { runId = e.RunId }, transaction, cancellationToken: cancellationToken)),
                "version" => await connection.ExecuteScalarAsync<string>(new CommandDefinition(VersionEntrySql, new { datasetId = e.DatasetId, version = e.Version }, transaction, cancellationToken: cancellationToken)),
                _ => e.Entry,
            };
            if (stored is null || Canonical(stored) != Canonical(e.Entry))
            {
                return new AuditVerification(count, $"{where}: the {(e.Kind == "run" ? "run" : "version")} record in the store differs from what the chain recorded");
            }

            if (e.Kind == "version")
            {
                var table = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
                    "select coalesce(v.table_name, d.table_name) from hub.datasets d left join hub.versions v on v.dataset_id = d.id and v.version = @Version where d.id = @DatasetId", new { e.DatasetId, e.Version }, transaction, cancellationToken: cancellationToken));
                var (rows, closed) = await DigestsAsync(connection, transaction, table!, e.Version!.Value, cancellationToken);
                var recorded = JsonDocument.Parse(e.Entry).RootElement;
                if (rows != recorded.GetProperty("rows_digest").GetString())
                {
                    return new AuditVerification(count, $"{where}: the rows this version published in {DatasetRegistry.QualifiedTable(table!)} were altered after publication");
                }

                if (closed != recorded.GetProperty("closed_digest").GetString())
                {
                    return new AuditVerification(count, $"{where}: the set of rows this version replaced or deleted in {DatasetRegistry.QualifiedTable(table!)} was altered");
                }
            }

            previous = e.Hash;
        }

        return new AuditVerification(count, null);
    }

    private static async Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string kind, string? datasetId, Guid? runId, long? version, string entry, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(@ChainLock)", new { ChainLock }, transaction, cancellationToken: cancellationToken));
        var previous = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select hash from hub.audit_log order by seq desc limit 1", transaction: transaction, cancellationToken: cancellationToken)) ?? Genesis;
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.audit_log (kind, dataset_id, run_id, version, entry, prev_hash, hash, created_at)
            values (@kind, @datasetId, @runId, @version, @entry::jsonb, @previous, @hash, @now)
            """,
            new { kind, datasetId, runId, version, entry, previous, hash = Hash(previous, entry), now },
            transaction, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// SHA-256 over the SHA-256 of every row the version inserted (all its columns but <c>_version_to</c> and those
    /// added to the table after the version, <c>hub.added_columns</c>), and over the keys of the rows it closed, both
    /// in key order.
    /// </summary>
    private static async Task<(string Rows, string Closed)> DigestsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string tableName, long version, CancellationToken cancellationToken)
    {
        var table = DatasetRegistry.QualifiedTable(tableName);
        return await connection.QuerySingleAsync<(string, string)>(new CommandDefinition(
            $"""
            select
              (select encode(sha256(convert_to(coalesce(string_agg(
                   encode(sha256(convert_to((to_jsonb(t) - '_version_to' - added.columns)::text, 'UTF8')), 'hex'), '' order by t._key), ''), 'UTF8')), 'hex')
               from {table} t,
                    (select coalesce(array_agg(column_name), array[]::text[]) as columns from hub.added_columns
                     where table_name = @tableName and after_version >= @version) added
               where t._version_from = @version),
              (select encode(sha256(convert_to(coalesce(string_agg(t._key, E'\n' order by t._key), ''), 'UTF8')), 'hex')
               from {table} t where t._version_to = @version)
            """, new { version, tableName }, transaction, cancellationToken: cancellationToken));
    }

    private static async Task UseUtcAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition("set local timezone to 'UTC'", transaction: transaction, cancellationToken: cancellationToken));

    private static string Canonical(string json) => Encoding.UTF8.GetString(RecordHash.CanonicalJson(JsonDocument.Parse(json).RootElement));

    private static string Hash(string previous, string entry) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(previous + "\n" + Canonical(entry))));
}
