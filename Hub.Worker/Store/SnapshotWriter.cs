using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dapper;
using Hub.Core.Messages;
using Hub.Worker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>
/// Loads batches into staging and publishes a run as the next version of its dataset, atomically: the merge
/// (inserts, updates, deletes) and the version flip happen in one transaction, so readers see version N or N+1.
/// Every step is idempotent: a redelivered batch is staged once, a run is finalized once.
/// </summary>
public sealed partial class SnapshotWriter(NpgsqlDataSource dataSource, TimeProvider time, IOptions<QualityOptions> quality, IOptions<StoreOptions> store, ILogger<SnapshotWriter> logger)
{
    /// <summary>
    /// Stages a batch and its rejected records, from the connector that checked it: the valid records go to the run's
    /// staging table as typed rows (<see cref="StagingTable"/>), the rejected ones to quarantine, in one transaction.
    /// Returns false when the batch was already staged or the run is over. Polled runs, pushes and replays all stage
    /// through here: the <c>stage batch</c> span and the batch duration metric cover each.
    /// </summary>
    public async Task<bool> StageAsync(FetchedBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var activity = HubTelemetry.Source.StartActivity("stage batch");
        activity?.SetTag("hub.run", batch.RunId);
        activity?.SetTag("hub.batch", batch.Sequence);
        var started = Stopwatch.GetTimestamp();
        bool staged;
        try
        {
            staged = await StageInTransactionAsync(batch, binary: true, cancellationToken);
        }
        catch (NoBinaryFormException)
        {
            staged = await StageInTransactionAsync(batch, binary: false, cancellationToken);
        }

        HubTelemetry.BatchWriteSeconds.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return staged;
    }

    private async Task<bool> StageInTransactionAsync(FetchedBatch batch, bool binary, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var run = await connection.QuerySingleOrDefaultAsync<(string Status, int SchemaVersion, string TableName)>(new CommandDefinition(
            """
            select r.status, r.schema_version, coalesce(d.pending_table, d.table_name)
            from hub.runs r join hub.datasets d on d.id = r.dataset_id
            where r.id = @RunId for share of r
            """, new { batch.RunId }, transaction, cancellationToken: cancellationToken));
        if (run.Status != "running")
        {
            return false;
        }

        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.run_batches (run_id, sequence, request_sequence, valid, rejected, blank_values, untrimmed_values, staged_at)
            values (@RunId, @Sequence, @RequestSequence, @Valid, @Rejected, @BlankValues, @UntrimmedValues, @Now)
            on conflict (run_id, sequence) do nothing
            """,
            new
            {
                batch.RunId,
                batch.Sequence,
                RequestSequence = batch.Request.Sequence,
                Valid = batch.Records.Count,
                Rejected = batch.Rejected.Count,
                batch.BlankValues,
                batch.UntrimmedValues,
                Now = time.GetUtcNow(),
            },
            transaction, cancellationToken: cancellationToken));
        if (inserted == 0)
        {
            return false;
        }

        if (batch.Records.Count > 0)
        {
            var columns = await StagingTable.EnsureAsync(connection, transaction, batch.RunId, run.TableName, cancellationToken);
            await StagingTable.CopyAsync(connection, batch.RunId, columns, batch.Sequence, batch.Records, binary, cancellationToken);
        }

        if (batch.Rejected.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                insert into hub.quarantine (run_id, dataset_id, sequence, key, payload, errors, schema_version, created_at)
                select @RunId, @DatasetId, @Sequence, r.key, r.payload, r.errors::jsonb, @SchemaVersion, @Now
                from unnest(@Keys, @Payloads, @Errors) as r(key, payload, errors)
                """,
                new
                {
                    batch.RunId,
                    batch.DatasetId,
                    batch.Sequence,
                    run.SchemaVersion,
                    Now = time.GetUtcNow(),
                    Keys = batch.Rejected.Select(r => r.Key).ToArray(),
                    Payloads = batch.Rejected.Select(r => r.Json).ToArray(),
                    Errors = batch.Rejected.Select(r => JsonSerializer.Serialize(r.Errors)).ToArray(),
                },
                transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Records that the connector fetched everything: how many batches and records to expect.</summary>
    public async Task MarkFetchedAsync(RunFetchCompleted completed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completed);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            update hub.runs set batch_count = @BatchCount, fetched = @Fetched, sync_cursor = @Cursor, fetch_finished_at = @Now
            where id = @RunId and status = 'running'
            """,
            new { completed.RunId, completed.BatchCount, completed.Fetched, completed.Cursor, Now = time.GetUtcNow() }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Publishes the run when the connector has finished and every batch is staged; otherwise does nothing
    /// (the last of the two events to arrive does it). Returns the number of the published version, or null when
    /// there is nothing to publish yet or the run changed nothing (its events are sent by <c>VersionEvents</c>).
    /// </summary>
    public async Task<long?> TryFinalizeAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var run = await connection.QuerySingleOrDefaultAsync<RunState>(new CommandDefinition(
            """
            select r.dataset_id as DatasetId, r.status as Status, r.mode as Mode, r.batch_count as BatchCount, r.fetched as Fetched, r.sync_cursor as SyncCursor, r.schema_version as SchemaVersion,
                   r.base_version as BaseVersion,
                   (select count(*) from hub.run_batches b where b.run_id = r.id) as StagedBatches,
                   (select coalesce(sum(valid), 0) from hub.run_batches b where b.run_id = r.id) as Valid,
                   (select coalesce(sum(rejected), 0) from hub.run_batches b where b.run_id = r.id) as Rejected
            from hub.runs r where r.id = @runId for update
            """, new { runId }, transaction, cancellationToken: cancellationToken));
        if (run is null || run.Status != "running" || run.BatchCount is null || run.StagedBatches < run.BatchCount)
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (run.Fetched != run.Valid + run.Rejected)
        {
            await RunStore.MarkFailedAsync(connection, transaction, runId,
                $"counts do not reconcile: fetched {run.Fetched} but staged {run.Valid} valid and {run.Rejected} quarantined", now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return null;
        }

        // A dataset moving to a new table (a new schema version) publishes into it; the switch commits with the version.
        var dataset = await connection.QuerySingleAsync<(long CurrentVersion, string TableName, long RowCount, string PublishedTable, int SchemaVersion)>(new CommandDefinition(
            "select current_version, coalesce(pending_table, table_name), row_count, table_name, schema_version from hub.datasets where id = @DatasetId for update",
            new { run.DatasetId }, transaction, cancellationToken: cancellationToken));

        // A schema version registered while the run was under way (runs are refused only when they start): its
        // records follow the old schema, and a partial run would publish a partial table into the new one.
        if (run.SchemaVersion != dataset.SchemaVersion || (dataset.TableName != dataset.PublishedTable && run.Mode != "full"))
        {
            await RunStore.MarkFailedAsync(connection, transaction, runId,
                $"the dataset's schema changed during the run (version {run.SchemaVersion} → {dataset.SchemaVersion}); rerun", now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return null;
        }

        if (run.Fetched == 0 && dataset.RowCount > 0 && run.Mode == "full")
        {
            await RunStore.MarkFailedAsync(connection, transaction, runId,
                $"the agency returned no records; refusing to delete all {dataset.RowCount} published rows (version {dataset.CurrentVersion} stays published)", now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return null;
        }

        var version = dataset.CurrentVersion + 1;
        await LocalSettings.SetAsync(connection, transaction, ["work_mem"], [store.Value.MergeWorkMemory], cancellationToken);
        // A table that holds no row yet (a dataset's first version, or the new table of a new schema version): nothing in
        // it to update or end, and it is loaded first and indexed after (MergeAsync).
        var empty = !await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"select exists (select 1 from {DatasetRegistry.QualifiedTable(dataset.TableName)})", transaction: transaction, cancellationToken: cancellationToken));
        if (await PrepareStagedAsync(connection, transaction, runId, run.Valid, empty, cancellationToken) is not { } staged)
        {
            await RunStore.MarkFailedAsync(connection, transaction, runId,
                $"the run's staging table no longer holds its {run.Valid} valid records (emptied by a database restart during the run?); nothing was published: rerun the sync", now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return null;
        }

        // Into an empty table every staged record is loaded, unless a key repeats (PrepareStagedAsync leaves that to the
        // load): the version's rows digest is computed from staging meanwhile.
        await using var stagedRows = staged.Keys is null
            ? new Beside<StagedRows>(token => AuditChain.StagedRowsDigestAsync(dataSource, runId, dataset.TableName, version, token), cancellationToken)
            : null;

        // A full listing of nothing but deletions would end every published row, as an empty one would.
        if (run.Mode == "full" && dataset.RowCount > 0 && staged.Deletions > 0 && staged.Deletions == staged.Rows)
        {
            await RunStore.MarkFailedAsync(connection, transaction, runId,
                $"the agency listed only records marked deleted ({staged.Deletions}) and no record to keep; refusing to delete all {dataset.RowCount} published rows (version {dataset.CurrentVersion} stays published)", now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return null;
        }

        // Records found unchanged were looked up against the published version; if it is still the one the run started
        // from, nothing was published meanwhile and they still are.
        if (run.BaseVersion != dataset.CurrentVersion && await StaleUnchangedAsync(connection, transaction, runId, dataset.TableName, cancellationToken) is { } stale)
        {
            await RunStore.MarkFailedAsync(connection, transaction, runId, stale, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return null;
        }

        var counts = await MergeAsync(connection, transaction, runId, dataset.TableName, version, staged, empty, fullRefresh: run.Mode == "full", cancellationToken);
        if (stagedRows is not null && counts.Duplicates > 0)
        {
            // The load left out repeated keys: the staged rows are not the version's, and the table is digested instead.
            await stagedRows.CancelAsync();
        }

        var changed = counts.Inserted + counts.Updated + counts.Deleted > 0;
        // Counted from the merge, not by reading every current row: a table the dataset moves to starts empty.
        var rowCount = (dataset.PublishedTable == dataset.TableName ? dataset.RowCount : 0) + counts.Inserted - counts.Deleted;

        // The version is published (and the run finished) when the merge is done, not when it started.
        var finished = time.GetUtcNow();
        if (changed && dataset.PublishedTable != dataset.TableName)
        {
            // The switch to a new table: the old table's rows end with this version (their history stays there).
            await connection.ExecuteAsync(new CommandDefinition(
                $"update {DatasetRegistry.QualifiedTable(dataset.PublishedTable)} set _version_to = @version where _version_to is null",
                new { version }, transaction, cancellationToken: cancellationToken));
        }

        if (changed)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                update hub.versions set table_name = @PublishedTable where dataset_id = @DatasetId and table_name is null and @PublishedTable <> @TableName;
                update hub.datasets set current_version = @version, row_count = @rowCount, table_name = @TableName, pending_table = null where id = @DatasetId;
                insert into hub.versions (dataset_id, version, run_id, published_at, inserted, updated, deleted, row_count)
                values (@DatasetId, @version, @runId, @finished, @Inserted, @Updated, @Deleted, @rowCount);
                """,
                new { run.DatasetId, version, rowCount, runId, finished, counts.Inserted, counts.Updated, counts.Deleted, dataset.TableName, dataset.PublishedTable },
                transaction, cancellationToken: cancellationToken));
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            update hub.runs set status = 'succeeded', finished_at = @finished, valid = @Valid, quarantined = @Rejected,
                inserted = @Inserted, updated = @Updated, unchanged = @Unchanged, deleted = @Deleted, marked_deleted = @MarkedDeleted,
                duplicates = @Duplicates, version = @publishedVersion
            where id = @runId;
            """,
            new
            {
                finished,
                run.Valid,
                run.Rejected,
                counts.Inserted,
                counts.Updated,
                counts.Unchanged,
                counts.Deleted,
                counts.MarkedDeleted,
                counts.Duplicates,
                publishedVersion = changed ? version : (long?)null,
                runId,
            },
            transaction, cancellationToken: cancellationToken));
        await QualityChecks.RecordAsync(
            connection, transaction, runId, run.DatasetId, (run.Fetched ?? 0, run.Valid, run.Rejected, counts.Duplicates), (rowCount, dataset.RowCount), quality.Value, finished, logger, cancellationToken);
        if (changed)
        {
            await AuditChain.AppendVersionAsync(
                connection, transaction, run.DatasetId, dataset.TableName, dataset.PublishedTable != dataset.TableName ? dataset.PublishedTable : null, version, runId, finished,
                stagedRows is not null && counts.Duplicates == 0 ? await stagedRows.ResultAsync(e => LogStagedDigestFailed(logger, runId, e)) : null, cancellationToken);
        }

        if (run.SyncCursor is not null)
        {
            // Incremental sync: the cursor advances with the publication, in the same transaction.
            await connection.ExecuteAsync(new CommandDefinition(
                """
                insert into hub.sync_cursors (dataset_id, cursor, run_id, updated_at) values (@DatasetId, @SyncCursor, @runId, @finished)
                on conflict (dataset_id) do update set cursor = excluded.cursor, run_id = excluded.run_id, updated_at = excluded.updated_at
                """, new { run.DatasetId, run.SyncCursor, runId, finished }, transaction, cancellationToken: cancellationToken));
        }

        await AuditChain.AppendRunAsync(connection, transaction, runId, finished, cancellationToken);
        await StagingTable.DropAsync(connection, transaction, runId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return changed ? version : null;
    }

    /// <summary>The record changes <paramref name="version"/> of a dataset made, in key order, streamed.</summary>
    public async IAsyncEnumerable<RecordChange> StreamVersionChangesAsync(string datasetId, long version, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // A version whose events were still unsent when the dataset moved to a new table is in the old one.
        var table = await DatasetRegistry.VersionTableAsync(connection, null, datasetId, version, cancellationToken);
        await foreach (var change in ChangeFeed.StreamVersionAsync(connection, table!, version, cancellationToken))
        {
            yield return change;
        }
    }

    /// <summary>
    /// Prepares the run's staging table for the merge, one row per key: the last occurrence of a key in the run wins;
    /// earlier ones are deleted and counted as duplicates in the source. Returns how many rows were staged, how many of
    /// them are deletions the agency marked, and how many keys they hold, or null when that is not what the run's
    /// batches staged (an UNLOGGED table is emptied by a database crash). Into an <paramref name="empty"/> table without
    /// deletions, the keys are left to the merge to prove distinct (null keys): the unique index of the table's current
    /// rows, built after the load, does it without a second index on staging.
    /// </summary>
    private static async Task<(long Rows, long Deletions, long? Keys)?> PrepareStagedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, long valid, bool empty, CancellationToken cancellationToken)
    {
        var staging = StagingTable.Of(runId);
        if (await connection.ExecuteScalarAsync<string?>(new CommandDefinition("select to_regclass(@staging)::text", new { staging }, transaction, cancellationToken: cancellationToken)) is null)
        {
            return valid == 0 ? (0, 0, 0) : null;
        }

        var (staged, deletions) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
            $"select count(*), count(*) filter (where _deleted) from {staging}", transaction: transaction, cancellationToken: cancellationToken));
        if (staged != valid)
        {
            return null;
        }

        if (empty && deletions == 0)
        {
            return (staged, 0, null);
        }

        // Agencies rarely repeat a key: a unique index on the keys, which the merge joins on, proves they did not in the
        // same pass; only when one is repeated does the (costly) removal of its earlier occurrences run.
        var repeats = await UniqueOrRemoveRepeatsAsync(connection, transaction, staging,
            () => connection.ExecuteAsync(new CommandDefinition($"create unique index on {staging} (_key)", transaction: transaction, cancellationToken: cancellationToken)),
            cancellationToken);

        // How many records the connector found unchanged (or deleted) decides how the merge joins (an incremental run
        // changes a few of many): without statistics the planner would guess half and join the whole published table.
        if (!empty)
        {
            await connection.ExecuteAsync(new CommandDefinition($"analyze {staging} (_changed, _deleted)", transaction: transaction, cancellationToken: cancellationToken));
        }

        return (staged, deletions, staged - repeats);
    }

    /// <summary>
    /// Runs <paramref name="attempt"/>, which builds a unique index over the staged keys, under a savepoint. When a key
    /// repeats, rolls the attempt back and deletes from the staging table the earlier occurrences of each key staged more
    /// than once. Returns how many it deleted: 0 when the attempt stands.
    /// </summary>
    private static async Task<int> UniqueOrRemoveRepeatsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string staging, Func<Task> attempt, CancellationToken cancellationToken)
    {
        await transaction.SaveAsync("unique_keys", cancellationToken);
        try
        {
            await attempt();
            await transaction.ReleaseAsync("unique_keys", cancellationToken);
            return 0;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await transaction.RollbackAsync("unique_keys", cancellationToken);
            return await connection.ExecuteAsync(new CommandDefinition(
                $"""
                create index on {staging} (_key);
                delete from {staging} a using {staging} b
                where a._key = b._key and (a._sequence, a._ordinal) < (b._sequence, b._ordinal)
                """, transaction: transaction, cancellationToken: cancellationToken));
        }
    }

    /// <summary>
    /// A record the connector judged unchanged (same key and hash as the row it looked up) is staged without values.
    /// If another run changed or deleted that row between the lookup and this merge (the dataset's row is locked
    /// now), keeping "the published row" would keep a row the agency no longer sends: the run must fail instead.
    /// Returns the run's error, or null when every such record still matches its current row.
    /// </summary>
    private static async Task<string?> StaleUnchangedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, string tableName, CancellationToken cancellationToken)
    {
        var table = DatasetRegistry.QualifiedTable(tableName);
        var stale = await connection.QuerySingleAsync<(long Count, long? JudgedAgainst, long? ChangedBy)>(new CommandDefinition(
            $"""
            select count(*), min(judged.version_from), max(judged.version_to)
            from (
                select i._key, i._hash from {StagingTable.Of(runId)} i
                left join {table} c on c._key = i._key and c._version_to is null and c._hash = i._hash
                where not i._changed and c._key is null) stale
            left join lateral (
                select c._version_from as version_from, c._version_to as version_to from {table} c
                where c._key = stale._key and c._hash = stale._hash
                order by c._version_from desc limit 1) judged on true
            """, transaction: transaction, cancellationToken: cancellationToken));
        return stale.Count == 0
            ? null
            : $"{stale.Count} records were judged unchanged against version {stale.JudgedAgainst?.ToString(CultureInfo.InvariantCulture) ?? "?"} " +
              $"but version {stale.ChangedBy?.ToString(CultureInfo.InvariantCulture) ?? "?"} changed or deleted them (another run published meanwhile); nothing was published: rerun the sync";
    }

    private static async Task<MergeCounts> MergeAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, string tableName, long version, (long Rows, long Deletions, long? Keys) staged, bool empty, bool fullRefresh, CancellationToken cancellationToken)
    {
        var table = DatasetRegistry.QualifiedTable(tableName);
        var staging = StagingTable.Of(runId);
        var columns = string.Concat((await StagingTable.ColumnsAsync(connection, transaction, runId, cancellationToken)).Select(c => DatasetRegistry.Quote(c.Name) + ", "));
        var parameters = new { runId, version };

        // A record staged unchanged (StaleUnchangedAsync checked it still is) keeps its published row. A deletion the
        // agency sent (deleted_when) ends its key's row in any run. Full refresh only: a published key absent from the
        // run is deleted, unless the run quarantined a record with that key (a bad record never removes the good
        // version published before it).
        long updated = 0, marked = 0, absent = 0;
        if (!empty)
        {
            (updated, marked) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
                $"""
                with ended as (
                    update {table} c set _version_to = @version
                    from {staging} i
                    where c._version_to is null and c._key = i._key and i._changed and (i._deleted or c._hash <> i._hash)
                    returning i._deleted)
                select count(*) filter (where not _deleted), count(*) filter (where _deleted) from ended
                """, parameters, transaction, cancellationToken: cancellationToken));
            absent = !fullRefresh ? 0 : await connection.ExecuteAsync(new CommandDefinition(
                $"""
                update {table} c set _version_to = @version
                where c._version_to is null
                  and not exists (select 1 from {staging} i where i._key = c._key)
                  and not exists (select 1 from hub.quarantine q where q.run_id = @runId and q.key = c._key)
                """, parameters, transaction, cancellationToken: cancellationToken));
        }

        // An empty table is loaded first and indexed after: building an index over the loaded rows costs a fraction of
        // updating it row by row. Dropping the indexes locks the table, which no version has published into, until the
        // version is published.
        var deferred = !empty ? [] : (await connection.QueryAsync<(string Name, string Definition)>(new CommandDefinition(
            "select indexname, indexdef from pg_indexes where schemaname = 'open_data' and tablename = @tableName",
            new { tableName }, transaction, cancellationToken: cancellationToken))).ToList();
        foreach (var index in deferred)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                $"drop index open_data.{DatasetRegistry.Quote(index.Name)}", transaction: transaction, cancellationToken: cancellationToken));
        }

        if (empty)
        {
            // The table holds no row, and truncating it takes the lock dropping its indexes took: it gets a new file in this
            // transaction, into which a server with wal_level = minimal (the hub's own, scripts/services.sh) loads without
            // writing WAL (a million rows in 1.6 s against 2.9 s), syncing the file at commit instead.
            await connection.ExecuteAsync(new CommandDefinition($"truncate {table}", transaction: transaction, cancellationToken: cancellationToken));
        }

        // Keys not proven distinct yet (PrepareStagedAsync): the unique index of current rows proves them as it is built
        // by the load; if a key repeats, the load is done again without its earlier occurrences.
        long written = 0;
        var distinct = staged.Keys ?? staged.Rows;
        if (staged.Keys is not null)
        {
            written = await LoadAsync();
        }
        else if (await UniqueOrRemoveRepeatsAsync(connection, transaction, staging, async () => written = await LoadAsync(), cancellationToken) is var repeats and > 0)
        {
            distinct -= repeats;
            written = await LoadAsync();
        }

        if (empty && written > 0)
        {
            // Rows loaded in this transaction have no statistics until autovacuum samples them, which can be after the next
            // run. Without them the planner takes the version for a few thousand rows, and reads them for the audit digest
            // (AuditChain, when it reads the table) in one process; and it takes the keys for 200 distinct values, so the next
            // incremental merge hashes the whole table instead of looking its changed keys up (10,000 changes in a million
            // rows: 1.2 s against 0.24 s). Sampling the key and version columns takes 0.25 s at 1,000,000 rows.
            await connection.ExecuteAsync(new CommandDefinition($"analyze {table} (_key, _version_from, _version_to)", transaction: transaction, cancellationToken: cancellationToken));
        }

        // A deletion of a key that is not published changed nothing: it counts as unchanged.
        return new MergeCounts(
            Inserted: written - updated,
            Updated: updated,
            Deleted: marked + absent,
            MarkedDeleted: marked,
            Unchanged: distinct - written - marked,
            Duplicates: staged.Rows - distinct);

        // AuditChain.StagedRowsDigestAsync reads a first version's rows from staging as this writes them (which staged rows,
        // and the version, run and batch columns): a change here changes it there (AuditDigestTests compares the two).
        async Task<long> LoadAsync()
        {
            var rows = await connection.ExecuteAsync(new CommandDefinition(
                $"""
                insert into {table} ({columns}_key, _hash, _version_from, _run_id, _batch)
                select {columns}i._key, i._hash, @version, @runId, i._sequence
                from {staging} i
                where i._changed and not i._deleted {(empty ? "" : $"and not exists (select 1 from {table} c where c._key = i._key and c._version_to is null)")}
                """, parameters, transaction, cancellationToken: cancellationToken));
            foreach (var index in deferred)
            {
                await connection.ExecuteAsync(new CommandDefinition(index.Definition, transaction: transaction, cancellationToken: cancellationToken));
            }

            return rows;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: the digest of its staged rows failed; the version's rows are digested from the table instead")]
    private static partial void LogStagedDigestFailed(ILogger logger, Guid runId, Exception exception);

    /// <summary>
    /// Work done beside the publishing transaction, on a connection of its own. Disposing it cancels the work if it is
    /// still under way and waits for it to end, so that it never outlives the transaction, whatever ended that.
    /// </summary>
    private sealed class Beside<T> : IAsyncDisposable
        where T : class
    {
        private readonly CancellationTokenSource cancellation;
        private readonly Task<T> work;

        public Beside(Func<CancellationToken, Task<T>> start, CancellationToken cancellationToken)
        {
            cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            work = start(cancellation.Token);
        }

        /// <summary>Cancels the work, when its result is no longer wanted, without waiting for it to end.</summary>
        public Task CancelAsync() => cancellation.CancelAsync();

        /// <summary>The work's result once it ends; null, after telling <paramref name="failed"/>, when it failed.</summary>
        public async Task<T?> ResultAsync(Action<Exception> failed)
        {
            await ((Task)work).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (work.IsCompletedSuccessfully)
            {
                return work.Result;
            }

            failed(work.Exception?.GetBaseException() ?? new OperationCanceledException());
            return null;
        }

        public async ValueTask DisposeAsync()
        {
            await cancellation.CancelAsync();
            await ((Task)work).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _ = work.Exception; // observed: a failure after the result was no longer wanted is not an error
            cancellation.Dispose();
        }
    }

    private sealed record RunState(string DatasetId, string Status, string Mode, int? BatchCount, long? Fetched, string? SyncCursor, int SchemaVersion, long? BaseVersion, long StagedBatches, long Valid, long Rejected);

    private sealed record MergeCounts(long Inserted, long Updated, long Deleted, long MarkedDeleted, long Unchanged, long Duplicates);
}
