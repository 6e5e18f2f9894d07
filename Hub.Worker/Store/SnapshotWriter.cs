using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dapper;
using Hub.Core.Messages;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Hub.Worker.Store;

/// <summary>
/// Loads batches into staging and publishes a run as the next version of its dataset, atomically: the merge
/// (inserts, updates, deletes) and the version flip happen in one transaction, so readers see version N or N+1.
/// Every step is idempotent: a redelivered batch is staged once, a run is finalized once.
/// </summary>
public sealed class SnapshotWriter(NpgsqlDataSource dataSource, TimeProvider time, IOptions<QualityOptions> quality, ILogger<SnapshotWriter> logger)
{
    /// <summary>Stages a batch and its rejected records. Returns false when the batch was already staged or the run is over.</summary>
    public async Task<bool> StageAsync(RecordBatchFetched batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var run = await connection.QuerySingleOrDefaultAsync<(string Status, int SchemaVersion)>(new CommandDefinition(
            "select status, schema_version from hub.runs where id = @RunId for share", new { batch.RunId }, transaction, cancellationToken: cancellationToken));
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

        await using (var importer = await connection.BeginBinaryImportAsync(
                         "copy hub.staged_records (run_id, sequence, ordinal, key, hash, record) from stdin (format binary)", cancellationToken))
        {
            for (var i = 0; i < batch.Records.Count; i++)
            {
                var record = batch.Records[i];
                await importer.StartRowAsync(cancellationToken);
                await importer.WriteAsync(batch.RunId, NpgsqlDbType.Uuid, cancellationToken);
                await importer.WriteAsync(batch.Sequence, NpgsqlDbType.Integer, cancellationToken);
                await importer.WriteAsync(i, NpgsqlDbType.Integer, cancellationToken);
                await importer.WriteAsync(record.Key, NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(record.Hash, NpgsqlDbType.Text, cancellationToken);
                if (record.Json is null)
                {
                    await importer.WriteNullAsync(cancellationToken);
                }
                else
                {
                    await importer.WriteAsync(record.Json, NpgsqlDbType.Jsonb, cancellationToken);
                }
            }

            await importer.CompleteAsync(cancellationToken);
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
        var staged = await LoadIncomingAsync(connection, transaction, runId, cancellationToken);
        if (await StaleUnchangedAsync(connection, transaction, dataset.TableName, cancellationToken) is { } stale)
        {
            await RunStore.MarkFailedAsync(connection, transaction, runId, stale, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return null;
        }

        var counts = await MergeAsync(connection, transaction, runId, dataset.TableName, version, staged, fullRefresh: run.Mode == "full", cancellationToken);
        var changed = counts.Inserted + counts.Updated + counts.Deleted > 0;
        var rowCount = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"select count(*) from {DatasetRegistry.QualifiedTable(dataset.TableName)} where _version_to is null", transaction: transaction, cancellationToken: cancellationToken));

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
                inserted = @Inserted, updated = @Updated, unchanged = @Unchanged, deleted = @Deleted, duplicates = @Duplicates,
                version = @publishedVersion
            where id = @runId;
            delete from hub.staged_records where run_id = @runId;
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
                connection, transaction, run.DatasetId, dataset.TableName, dataset.PublishedTable != dataset.TableName ? dataset.PublishedTable : null, version, runId, finished, cancellationToken);
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
    /// Loads the run's staged records into the temporary table <c>incoming</c>, one per key: the last occurrence of
    /// a key in the run wins; earlier ones are counted as duplicates in the source. Returns how many were staged.
    /// </summary>
    private static Task<long> LoadIncomingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            create temp table incoming on commit drop as
            select distinct on (key) key, hash, record, sequence
            from hub.staged_records where run_id = @runId
            order by key, sequence desc, ordinal desc;
            create unique index on incoming (key);
            analyze incoming;
            select count(*) from hub.staged_records where run_id = @runId;
            """, new { runId }, transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// A record without JSON was judged unchanged by the connector: same key and hash as the row it looked up. If
    /// another run changed or deleted that row between the lookup and this merge (the dataset's row is locked
    /// now), keeping "the published row" would keep a row the agency no longer sends: the run must fail instead.
    /// Returns the run's error, or null when every such record still matches its current row.
    /// </summary>
    private static async Task<string?> StaleUnchangedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string tableName, CancellationToken cancellationToken)
    {
        var table = DatasetRegistry.QualifiedTable(tableName);
        var stale = await connection.QuerySingleAsync<(long Count, long? JudgedAgainst, long? ChangedBy)>(new CommandDefinition(
            $"""
            select count(*), min(judged.version_from), max(judged.version_to)
            from incoming i
            left join lateral (
                select c._version_from as version_from, c._version_to as version_to from {table} c
                where c._key = i.key and c._hash = i.hash
                order by c._version_from desc limit 1) judged on true
            where i.record is null
              and not exists (select 1 from {table} c where c._key = i.key and c._version_to is null and c._hash = i.hash)
            """, transaction: transaction, cancellationToken: cancellationToken));
        return stale.Count == 0
            ? null
            : $"{stale.Count} records were judged unchanged against version {stale.JudgedAgainst?.ToString(CultureInfo.InvariantCulture) ?? "?"} " +
              $"but version {stale.ChangedBy?.ToString(CultureInfo.InvariantCulture) ?? "?"} changed or deleted them (another run published meanwhile); nothing was published: rerun the sync";
    }

    private static async Task<MergeCounts> MergeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, string tableName, long version, long staged, bool fullRefresh, CancellationToken cancellationToken)
    {
        var table = DatasetRegistry.QualifiedTable(tableName);
        var columns = (await connection.QueryAsync<string>(new CommandDefinition(
            """
            select column_name from information_schema.columns
            where table_schema = 'open_data' and table_name = @tableName and column_name not like '\_%'
            order by ordinal_position
            """, new { tableName }, transaction, cancellationToken: cancellationToken))).Select(DatasetRegistry.Quote).ToList();
        var parameters = new { runId, version };

        // Full refresh only: a published key absent from the run is deleted, unless the run quarantined a record
        // with that key (a bad record never removes the good version published before it).
        // A record without JSON was found unchanged by the connector (and still is: StaleUnchangedAsync checked it):
        // it keeps its published row.
        var distinct = await connection.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from incoming", transaction: transaction, cancellationToken: cancellationToken));
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            $"""
            update {table} c set _version_to = @version
            from incoming i
            where c._version_to is null and c._key = i.key and c._hash <> i.hash and i.record is not null
            """, parameters, transaction, cancellationToken: cancellationToken));
        var deleted = !fullRefresh ? 0 : await connection.ExecuteAsync(new CommandDefinition(
            $"""
            update {table} c set _version_to = @version
            where c._version_to is null
              and not exists (select 1 from incoming i where i.key = c._key)
              and not exists (select 1 from hub.quarantine q where q.run_id = @runId and q.key = c._key)
            """, parameters, transaction, cancellationToken: cancellationToken));
        var written = await connection.ExecuteAsync(new CommandDefinition(
            $"""
            insert into {table} ({string.Join(", ", columns)}, _key, _hash, _version_from, _run_id, _batch)
            select {string.Join(", ", columns.Select(c => $"(x.r).{c}"))}, x.key, x.hash, @version, @runId, x.sequence
            from (
                select i.key, i.hash, i.sequence, jsonb_populate_record(null::{table}, i.record) as r
                from incoming i
                where i.record is not null
                  and not exists (select 1 from {table} c where c._key = i.key and c._version_to is null)
            ) x
            """, parameters, transaction, cancellationToken: cancellationToken));
        return new MergeCounts(
            Inserted: written - updated,
            Updated: updated,
            Deleted: deleted,
            Unchanged: distinct - written,
            Duplicates: staged - distinct);
    }

    private sealed record RunState(string DatasetId, string Status, string Mode, int? BatchCount, long? Fetched, string? SyncCursor, int SchemaVersion, long StagedBatches, long Valid, long Rejected);

    private sealed record MergeCounts(long Inserted, long Updated, long Deleted, long Unchanged, long Duplicates);
}
