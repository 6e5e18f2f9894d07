using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Hub.Core.Records;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>The outcome of recomputing the audit chain, with the head (last entry) to anchor outside the store.</summary>
public sealed record AuditVerification(long Entries, string? FirstBroken, AuditHead? Head = null)
{
    public bool Intact => FirstBroken is null;
}

/// <summary>The rows digest of a version computed from its run's staging table, over the table columns it names.</summary>
public sealed record StagedRows(IReadOnlyList<string> Columns, string Digest);

/// <summary>The last entry of the chain: an auditor writes its hash down elsewhere and later checks it is still there.</summary>
public sealed record AuditHead(long Seq, string Hash, DateTimeOffset CreatedAt);

/// <summary>
/// Runs, published versions and operator actions (audit events) form a hash chain in <c>hub.audit_log</c>: each
/// entry's hash is the SHA-256 of the previous hash and the entry's canonical JSON. A version entry also holds
/// digests of the rows the version wrote, and a run entry (format 2) a digest of the requests it made with their
/// payload hashes, so a row edited later in a dataset table, a run, request or version record changed, or an
/// entry removed or altered, breaks the chain at a place <see cref="VerifyAsync(string, CancellationToken)"/> names. Verification also checks
/// what the chain must cover: every ended run and every version has its entry, every row names a published
/// version, each dataset's current version and row count are those of its last version, and every stored raw
/// payload hashes to its name.
/// </summary>
public sealed class AuditChain(NpgsqlDataSource dataSource, TimeProvider time)
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    private const long ChainLock = 0x4855425F41554454; // "HUB_AUDT"

    /// <summary>The format of the run entries appended now; formats 1 (without requests) and 2 (without the marked deletions) still verify.</summary>
    private const int RunEntryFormat = 3;

    /// <summary>
    /// The format of the version entries appended now: format 2 digests rows without their null columns, so a column
    /// added later by an additive schema change (null in older rows) leaves older digests intact; format 3 adds to the
    /// closed digest of the version that moved the dataset to a new table the rows it ended in the table it left;
    /// format 4 digests each row as PostgreSQL's text of the row, over the columns the table had when the version was
    /// published (listed in the entry: a column added later, by the hub or not, leaves it intact), keys in byte order:
    /// the same guarantees at a third of the database's time. Formats 1 to 3 still verify.
    /// </summary>
    private const int VersionEntryFormat = 4;

    /// <summary>
    /// PostgreSQL settings for the queries of a version's digests only: their sorts stay in memory (the text of a million
    /// bench rows takes about 430 MB; the default 4 MB <c>work_mem</c> sent it through temporary files), and where the
    /// planner knows the table's size it splits them, with building the row texts, between parallel workers, since
    /// handing a row over costs less than it assumes (the writer samples a table it loaded in the publishing transaction,
    /// whose rows would have no statistics yet). PostgreSQL takes only the memory a sort needs, and a larger version still
    /// sorts, through temporary files. No plain index scans: since keys sort in byte order, the key index gives the
    /// digest's order, and the planner read a whole version through it in one process (4.3 s against 3.3 s for a million
    /// rows); a small version is still found through the version index (a bitmap scan). No JIT: compiling the row texts'
    /// expressions took longer (0.14 s) than it saved.
    /// </summary>
    private static readonly string[] DigestSettingNames = ["work_mem", "parallel_tuple_cost", "enable_indexscan", "jit"];

    private static readonly string[] DigestSettingValues = ["512MB", "0", "off", "off"];

    // Entries are built by SQL from the stored rows, at append and again at verification, in UTC.
    // Format 1: the run record. Format 2 adds its requests: how many, and the SHA-256 over each request's
    // sequence, URL, time, HTTP status, payload SHA-256 and record count, in sequence order. Format 3 adds how many rows
    // it ended because the agency marked them deleted.
    private const string RunEntrySql =
        """
        select (jsonb_build_object(
            'run', id, 'dataset', dataset_id, 'trigger', trigger, 'mode', mode, 'status', status,
            'started_at', started_at, 'finished_at', finished_at, 'fetched', fetched, 'valid', valid,
            'quarantined', quarantined, 'inserted', inserted, 'updated', updated, 'unchanged', unchanged,
            'deleted', deleted, 'duplicates', duplicates, 'version', version, 'error', error,
            'config_revision', config_revision, 'schema_version', schema_version)
          || case when @format < 2 then '{}'::jsonb else jsonb_build_object(
            'format', @format,
            'requests', (select count(*) from hub.run_requests q where q.run_id = r.id),
            'requests_digest', (
                select encode(sha256(convert_to(coalesce(string_agg(
                    jsonb_build_array(q.sequence, q.url, q.fetched_at, q.status_code, q.payload_sha256, q.record_count)::text, E'\n' order by q.sequence), ''), 'UTF8')), 'hex')
                from hub.run_requests q where q.run_id = r.id)) end
          || case when @format < 3 then '{}'::jsonb else jsonb_build_object('marked_deleted', marked_deleted) end)::text
        from hub.runs r where r.id = @runId
        """;

    private const string VersionEntrySql =
        """
        select (jsonb_build_object(
            'dataset', dataset_id, 'version', version, 'run', run_id, 'published_at', published_at,
            'inserted', inserted, 'updated', updated, 'deleted', deleted, 'row_count', row_count,
            'rows_digest', rows_digest, 'closed_digest', closed_digest)
          || case when @format < 2 then '{}'::jsonb else jsonb_build_object('format', @format) end
          || case when @format < 4 then '{}'::jsonb else jsonb_build_object('columns', digest_columns) end)::text
        from hub.versions where dataset_id = @datasetId and version = @version
        """;

    /// <summary>Appends the entry of an ended run, inside the transaction that ended it.</summary>
    internal static async Task AppendRunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await UseUtcAsync(connection, transaction, cancellationToken);
        var entry = await connection.ExecuteScalarAsync<string>(new CommandDefinition(RunEntrySql, new { runId, format = RunEntryFormat }, transaction, cancellationToken: cancellationToken));
        var datasetId = JsonDocument.Parse(entry!).RootElement.GetProperty("dataset").GetString();
        await AppendAsync(connection, transaction, "run", datasetId, runId, null, entry!, now, cancellationToken);
    }

    /// <summary>
    /// Records the digests of what <paramref name="version"/> wrote and appends its entry, inside the publishing
    /// transaction; <paramref name="leftTable"/> is the table the dataset leaves with this version (a breaking schema
    /// version), else null.
    /// </summary>
    internal static async Task AppendVersionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string datasetId, string tableName, string? leftTable, long version, Guid runId, DateTimeOffset now,
        StagedRows? stagedRows, CancellationToken cancellationToken)
    {
        await UseUtcAsync(connection, transaction, cancellationToken);
        var columns = await DigestedColumnsAsync(connection, transaction, tableName, cancellationToken);
        var knownRows = stagedRows is not null && stagedRows.Columns.SequenceEqual(columns) ? stagedRows.Digest : null;
        var (rows, closed) = await DigestsAsync(connection, transaction, tableName, leftTable, version, VersionEntryFormat, columns, knownRows, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "update hub.versions set rows_digest = @rows, closed_digest = @closed, digest_columns = @columns where dataset_id = @datasetId and version = @version",
            new { rows, closed, columns = columns.ToArray(), datasetId, version }, transaction, cancellationToken: cancellationToken));
        var entry = await connection.ExecuteScalarAsync<string>(new CommandDefinition(VersionEntrySql, new { datasetId, version, format = VersionEntryFormat }, transaction, cancellationToken: cancellationToken));
        await AppendAsync(connection, transaction, "version", datasetId, runId, version, entry!, now, cancellationToken);
    }

    /// <summary>
    /// The rows digest (format 4) of a version loaded from staging into an empty table, computed from the run's staging
    /// table on a connection of its own, as <see cref="DigestsAsync"/> would compute it from the table once loaded: the
    /// same row texts (each table column from the staging column of its name, the version, run and batch as the load
    /// writes them, null for a column staging lacks), the same order. The publishing transaction meanwhile loads and
    /// indexes the table, one PostgreSQL process most of the time, so the two share the machine's cores (at a million
    /// rows about 2 s less than one after the other). It holds only when every staged record is loaded: a run that staged
    /// a key twice, or an agency's deletion, leaves it unused.
    /// </summary>
    public static async Task<StagedRows> StagedRowsDigestAsync(NpgsqlDataSource dataSource, Guid runId, string tableName, long version, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await UseUtcAsync(connection, transaction, cancellationToken);
        await LocalSettings.SetAsync(connection, transaction, DigestSettingNames, DigestSettingValues, cancellationToken);
        var columns = await DigestedColumnsAsync(connection, transaction, tableName, cancellationToken);
        var staged = (await StagingTable.ColumnsAsync(connection, transaction, runId, cancellationToken)).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var values = columns.Select(c => c switch
        {
            "_key" or "_hash" => "i." + c,
            "_version_from" => "@version",
            "_run_id" => "@runId",
            "_batch" => "i._sequence",
            _ => staged.Contains(c) ? "i." + DatasetRegistry.Quote(c) : "null",
        });
        var digest = await StreamedDigestAsync(
            connection, transaction,
            $"select row({string.Join(", ", values)})::text from {StagingTable.Of(runId)} i where i._changed and not i._deleted order by i._key collate \"C\"",
            "\n", new { version, runId }, cancellationToken);
        return new StagedRows(columns, digest);
    }

    /// <summary>
    /// Appends an operator action (an audit event: manual run, pause, resume, reset, backfill, waiver, confirmation, key
    /// issued or revoked, quarantine replay) once it has taken effect. <paramref name="details"/> is serialized as JSON; it
    /// must hold no secret.
    /// </summary>
    public async Task AppendEventAsync(string action, string? datasetId, object details, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await AppendEventAsync(connection, transaction, action, datasetId, details, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Appends an operator action inside <paramref name="transaction"/>, the one that makes the action take effect: the
    /// action and its entry are written together or not at all, so a failed append never leaves an unaudited action.
    /// </summary>
    public async Task AppendEventAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string action, string? datasetId, object details, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        var now = time.GetUtcNow();
        var entry = JsonSerializer.Serialize(new { action, dataset = datasetId, at = now, details }, JsonSerializerOptions.Web);
        await AppendAsync(connection, transaction, "event", datasetId, null, null, entry, now, cancellationToken);
    }

    /// <summary>The last entry, or null while the chain is empty.</summary>
    public async Task<AuditHead?> HeadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<AuditHead>(new CommandDefinition(
            "select seq as Seq, hash as Hash, created_at as CreatedAt from hub.audit_log order by seq desc limit 1", cancellationToken: cancellationToken));
    }

    public Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken) => VerifyAsync(null, cancellationToken);

    /// <summary>
    /// Recomputes every link and digest, then checks what the chain must cover; names the first place that does not
    /// match. With an <paramref name="anchor"/> (a head hash written down earlier), also checks the chain still holds it.
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(string? anchor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await UseUtcAsync(connection, transaction, cancellationToken);
        var entries = await connection.QueryAsync<(long Seq, string Kind, string? DatasetId, Guid? RunId, long? Version, string Entry, string PrevHash, string Hash, DateTimeOffset CreatedAt)>(new CommandDefinition(
            "select seq, kind, dataset_id, run_id, version, entry::text, prev_hash, hash, created_at from hub.audit_log order by seq",
            transaction: transaction, cancellationToken: cancellationToken));
        var previous = Genesis;
        long count = 0;
        AuditHead? head = null;
        var anchored = anchor is null;
        foreach (var e in entries)
        {
            count++;
            var where = $"entry #{e.Seq} ({e.Kind} of {e.DatasetId}{(e.Version is null ? string.Empty : $" version {e.Version}")}{(e.RunId is null ? string.Empty : $", run {e.RunId}")})";
            if (await VerifyEntryAsync(connection, transaction, e.Kind, e.DatasetId, e.RunId, e.Version, e.Entry, e.PrevHash, e.Hash, previous, cancellationToken) is { } broken)
            {
                return new AuditVerification(count, $"{where}: {broken}", head);
            }

            previous = e.Hash;
            head = new AuditHead(e.Seq, e.Hash, e.CreatedAt);
            anchored |= string.Equals(e.Hash, anchor, StringComparison.OrdinalIgnoreCase);
        }

        var uncovered = anchored
            ? await FindUncoveredAsync(connection, transaction, cancellationToken)
            : $"the anchored head {anchor} is not in the chain: entries were removed from its end, or the chain was rewritten";
        return new AuditVerification(count, uncovered, head);
    }

    /// <summary>Checks one entry: its link, its hash, the record it describes and, for a version, the rows it wrote. Null when it holds.</summary>
    private static async Task<string?> VerifyEntryAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string kind, string? datasetId, Guid? runId, long? version, string entry, string prevHash, string hash, string previous, CancellationToken cancellationToken)
    {
        if (prevHash != previous)
        {
            return "its previous hash does not match the entry before it; an entry was removed or inserted before it";
        }

        if (Hash(prevHash, entry) != hash)
        {
            return "its content does not match its hash; the audit entry was altered";
        }

        var recorded = JsonDocument.Parse(entry).RootElement;
        var format = recorded.TryGetProperty("format", out var f) ? f.GetInt32() : 1;
        var stored = kind switch
        {
            "run" => await connection.ExecuteScalarAsync<string>(new CommandDefinition(RunEntrySql, new { runId, format }, transaction, cancellationToken: cancellationToken)),
            "version" => await connection.ExecuteScalarAsync<string>(new CommandDefinition(VersionEntrySql, new { datasetId, version, format }, transaction, cancellationToken: cancellationToken)),
            _ => entry,
        };
        if (stored is null)
        {
            return $"the {kind} record is no longer in the store";
        }

        if (Canonical(stored) != Canonical(entry))
        {
            var differing = JsonDocument.Parse(stored).RootElement.EnumerateObject()
                .Where(p => !recorded.TryGetProperty(p.Name, out var value) || Canonical(value.GetRawText()) != Canonical(p.Value.GetRawText()))
                .Select(p => p.Name);
            return $"the {kind} record in the store differs from what the chain recorded ({string.Join(", ", differing)})";
        }

        if (kind != "version")
        {
            return null;
        }

        // A version published before its dataset moved to a new table (a breaking schema version) is in the old one;
        // the version that moved it also ended the current rows of the table before it.
        var table = await DatasetRegistry.VersionTableAsync(connection, transaction, datasetId!, version!.Value, cancellationToken);
        var before = await DatasetRegistry.VersionTableAsync(connection, transaction, datasetId!, version.Value - 1, cancellationToken);
        var left = version > 1 && before != table ? before : null;
        // Format 4 digests the columns the table had then; a column added since must still be empty in these rows.
        var columns = format < 4 ? null : recorded.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
        if (columns is not null)
        {
            var now = await DigestedColumnsAsync(connection, transaction, table!, cancellationToken);
            if (columns.Except(now, StringComparer.Ordinal).ToList() is { Count: > 0 } dropped)
            {
                return $"columns of the rows this version published were dropped from {DatasetRegistry.QualifiedTable(table!)} ({string.Join(", ", dropped)})";
            }

            if (now.Except(columns, StringComparer.Ordinal).ToList() is { Count: > 0 } added && await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                    $"select exists (select 1 from {DatasetRegistry.QualifiedTable(table!)} t where t._version_from = @version and not ({string.Join(" and ", added.Select(c => $"t.{DatasetRegistry.Quote(c)} is null"))}))",
                    new { version }, transaction, cancellationToken: cancellationToken)))
            {
                return $"the rows this version published in {DatasetRegistry.QualifiedTable(table!)} were altered after publication (a column added since, {string.Join(", ", added)}, holds values in them)";
            }
        }

        var (rows, closed) = await DigestsAsync(connection, transaction, table!, left, version.Value, format, columns, null, cancellationToken);
        if (rows != recorded.GetProperty("rows_digest").GetString())
        {
            return $"the rows this version published in {DatasetRegistry.QualifiedTable(table!)} were altered after publication";
        }

        return closed != recorded.GetProperty("closed_digest").GetString()
            ? $"the set of rows this version replaced or deleted in {DatasetRegistry.QualifiedTable(table!)}{(left is null || format < 3 ? string.Empty : $" or ended in {DatasetRegistry.QualifiedTable(left)}")} was altered"
            : null;
    }

    /// <summary>
    /// What the chain must cover, from its start (when the migration that created it was applied) on: an entry for
    /// every ended run and every version; rows that name only published versions; each dataset's current version and
    /// row count as its last version entry says; raw payloads that hash to their name. Null when all holds.
    /// </summary>
    private static async Task<string?> FindUncoveredAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        const string chainStart = "coalesce((select applied_at from hub.schema_migrations where version = 3), '-infinity')";
        var run = await connection.QueryFirstOrDefaultAsync<Uncovered>(new CommandDefinition(
            $"""
            select r.dataset_id as DatasetId, r.id::text as Name from hub.runs r
            where r.status <> 'running' and r.finished_at >= {chainStart}
              and not exists (select 1 from hub.audit_log a where a.kind = 'run' and a.run_id = r.id)
            order by r.finished_at, r.id limit 1
            """, transaction: transaction, cancellationToken: cancellationToken));
        if (run is not null)
        {
            return $"run {run.Name} of {run.DatasetId} ended but has no entry in the chain; it was added or ended outside the hub, or its entry was removed";
        }

        var version = await connection.QueryFirstOrDefaultAsync<Uncovered>(new CommandDefinition(
            $"""
            select v.dataset_id as DatasetId, v.version::text as Name from hub.versions v
            where v.published_at >= {chainStart}
              and not exists (select 1 from hub.audit_log a where a.kind = 'version' and a.dataset_id = v.dataset_id and a.version = v.version)
            order by v.published_at, v.dataset_id limit 1
            """, transaction: transaction, cancellationToken: cancellationToken));
        if (version is not null)
        {
            return $"version {version.Name} of {version.DatasetId} has no entry in the chain; it was added outside a publication, or its entry was removed";
        }

        // Every table a dataset has published into: its current one, and the ones it left for a new schema version.
        var tables = await connection.QueryAsync<(string Id, string TableName)>(new CommandDefinition(
            """
            select t.id, t.table_name from (
                select d.id, d.table_name from hub.datasets d
                union
                select v.dataset_id, v.table_name from hub.versions v where v.table_name is not null) t
            where to_regclass(format('open_data.%I', t.table_name)) is not null
            order by t.id, t.table_name
            """, transaction: transaction, cancellationToken: cancellationToken));
        foreach (var (id, tableName) in tables)
        {
            if (await connection.QueryFirstOrDefaultAsync<StrayRow>(new CommandDefinition(
                    $"""
                    select t._key as Key, t._version_from as VersionFrom, t._version_to as VersionTo from {DatasetRegistry.QualifiedTable(tableName)} t
                    where not exists (select 1 from hub.versions v where v.dataset_id = @id and v.version = t._version_from)
                       or (t._version_to is not null and not exists (select 1 from hub.versions v where v.dataset_id = @id and v.version = t._version_to))
                    limit 1
                    """, new { id }, transaction, cancellationToken: cancellationToken)) is { } row)
            {
                return $"row '{row.Key}' of {DatasetRegistry.QualifiedTable(tableName)} names version {row.VersionFrom}{(row.VersionTo is null ? string.Empty : $" to {row.VersionTo}")}, which hub.versions does not hold: it was written outside a publication, or its version was removed";
            }
        }

        var datasets = await connection.QueryAsync<(string Id, long CurrentVersion, long RowCount, long? ChainedVersion, long? ChainedRowCount)>(new CommandDefinition(
            """
            select d.id, d.current_version, d.row_count, a.version, (a.entry->>'row_count')::bigint
            from hub.datasets d
            left join lateral (
                select a.version, a.entry from hub.audit_log a where a.kind = 'version' and a.dataset_id = d.id order by a.seq desc limit 1) a on true
            order by d.id
            """, transaction: transaction, cancellationToken: cancellationToken));
        foreach (var d in datasets)
        {
            if (d.CurrentVersion != (d.ChainedVersion ?? 0) || d.RowCount != (d.ChainedRowCount ?? 0))
            {
                return $"dataset {d.Id} says current version {d.CurrentVersion} with {d.RowCount} rows, but its last version entry in the chain is version {d.ChainedVersion ?? 0} with {d.ChainedRowCount ?? 0} rows";
            }
        }

        var payload = await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition(
            "select sha256 from hub.payloads where encode(sha256(body), 'hex') <> sha256 order by sha256 limit 1", transaction: transaction, cancellationToken: cancellationToken));
        return payload is null ? null : $"the raw payload stored as {payload} does not hash to its name: its body was altered";
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
    /// The digests of what a version wrote: of every row it inserted, and of the keys of the rows it closed, both in key
    /// order, so that an additive schema change leaves earlier digests intact. Formats 1 to 3 take the SHA-256 over each
    /// row's SHA-256 of its JSON (all columns but <c>_version_to</c>; format 1 without the columns added to the table after
    /// the version (<c>hub.added_columns</c>), formats 2 and 3 without the null values, which an added column is in older
    /// rows) in the database's collation order; format 4 the SHA-256 over the text of the rows' <paramref name="columns"/>
    /// (those the table had when the version was published, <c>_version_to</c> excepted), one row per line, in byte order. From format
    /// 3 on, the closed keys also count those of <paramref name="leftTable"/> (the table the dataset left with this version).
    /// Each digest is what <c>sha256(convert_to(string_agg(text, separator order by key), 'UTF8'))</c> gives, computed
    /// while the texts stream in: a single text would be capped at 1 GB, and building it costs the database more than
    /// the hashing. <paramref name="knownRows"/> is the rows digest when it is known already (<see cref="StagedRowsDigestAsync"/>).
    /// </summary>
    private static async Task<(string Rows, string Closed)> DigestsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string tableName, string? leftTable, long version, int format, IReadOnlyList<string>? columns, string? knownRows,
        CancellationToken cancellationToken)
    {
        var table = DatasetRegistry.QualifiedTable(tableName);
        var closedIn = format < 3 || leftTable is null
            ? $"select t._key from {table} t where t._version_to = @version"
            : $"select t._key from {table} t where t._version_to = @version union all select t._key from {DatasetRegistry.QualifiedTable(leftTable)} t where t._version_to = @version";
        // Formats 1 to 3 ordered keys by the key column's collation, which was the database's default until keys sorted
        // in byte order (migration 0017).
        var order = format < 4 ? "_key collate \"default\"" : "_key collate \"C\"";
        var (rowText, separator) = format switch
        {
            < 4 => ($"encode(sha256(convert_to(({(format < 2 ? "to_jsonb(t) - '_version_to' - added.columns" : "jsonb_strip_nulls(to_jsonb(t) - '_version_to')")})::text, 'UTF8')), 'hex')", string.Empty),
            _ => ($"row({string.Join(", ", columns!.Select(c => "t." + DatasetRegistry.Quote(c)))})::text", "\n"),
        };
        var added = format < 2
            ? """
              , (select coalesce(array_agg(column_name), array[]::text[]) as columns from hub.added_columns
                 where table_name = @tableName and after_version >= @version) added
              """
            : string.Empty;
        var previous = await LocalSettings.CurrentAsync(connection, transaction, DigestSettingNames, cancellationToken);
        await LocalSettings.SetAsync(connection, transaction, DigestSettingNames, DigestSettingValues, cancellationToken);
        var rows = knownRows ?? await StreamedDigestAsync(
            connection, transaction, $"select {rowText} from {table} t{added} where t._version_from = @version order by t.{order}", separator, new { version, tableName }, cancellationToken);
        var closed = await StreamedDigestAsync(
            connection, transaction, $"select c._key from ({closedIn}) c order by c.{order}", "\n", new { version }, cancellationToken);
        await LocalSettings.SetAsync(connection, transaction, DigestSettingNames, previous, cancellationToken);
        return (rows, closed);
    }

    /// <summary>
    /// The hex SHA-256 of the texts <paramref name="sql"/> selects (one column), in its order, UTF-8, joined by
    /// <paramref name="separator"/>, nulls left out (as <c>string_agg</c> does); of nothing when it selects nothing.
    /// </summary>
    private static async Task<string> StreamedDigestAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, string separator, object parameters, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var separatorBytes = Encoding.UTF8.GetBytes(separator);
        var buffer = new byte[8192];
        var first = true;
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken));
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.IsDBNull(0))
            {
                continue;
            }

            if (!first)
            {
                hash.AppendData(separatorBytes);
            }

            first = false;
            // The text as it came over the wire: UTF-8, the client encoding Npgsql always uses.
            await using var text = reader.GetStream(0);
            int read;
            while ((read = text.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The columns a version's rows are digested over (format 4): all the table has now but <c>_version_to</c>.</summary>
    private static async Task<List<string>> DigestedColumnsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string tableName, CancellationToken cancellationToken) =>
        (await DatasetRegistry.TableColumnsAsync(connection, transaction, DatasetRegistry.QualifiedTable(tableName), cancellationToken))
        .Select(c => c.Name).Where(c => c != "_version_to").ToList();

    /// <summary>Entries and row texts are the same whatever the session's settings: times in UTC, dates in ISO form.</summary>
    private static Task UseUtcAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        LocalSettings.SetAsync(connection, transaction, ["timezone", "datestyle"], ["UTC", "ISO, YMD"], cancellationToken);

    private static string Canonical(string json) => Encoding.UTF8.GetString(RecordHash.CanonicalJson(JsonDocument.Parse(json).RootElement));

    private static string Hash(string previous, string entry) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(previous + "\n" + Canonical(entry))));

    /// <summary>A run or version (by its id or number) the chain does not cover.</summary>
    private sealed record Uncovered(string DatasetId, string Name);

    /// <summary>A dataset row naming a version that hub.versions does not hold.</summary>
    private sealed record StrayRow(string Key, long VersionFrom, long? VersionTo);
}
