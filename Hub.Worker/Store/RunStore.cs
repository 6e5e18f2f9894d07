using Dapper;
using Hub.Connectors.Http;
using Hub.Core.Catalog;
using Hub.Core.Messages;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>What started a run. Scheduled and manual runs are full refreshes; pushes and replays only add and update.</summary>
public enum RunTrigger
{
    Schedule,
    Manual,
    Push,

    /// <summary>Quarantined records checked again after a schema or mapping fix.</summary>
    Replay,
}

/// <summary>The dataset takes no run now (withdrawn, blocked by a breaking schema change, ...); the message says why.</summary>
public sealed class DatasetRefusedException(string message) : Exception(message);

/// <summary>Run bookkeeping on the connector side: start, requests with their raw payloads, failure.</summary>
public sealed class RunStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    public Task<Guid> StartAsync(DatasetDefinition dataset, RunTrigger trigger, CancellationToken cancellationToken) =>
        StartAsync(dataset, trigger, incremental: false, cancellationToken);

    /// <summary>
    /// Starts a run; an <paramref name="incremental"/> run (records since a cursor) is partial: it deletes only what the agency marks deleted.
    /// Throws <see cref="DatasetRefusedException"/> when the dataset takes no run now (see <see cref="RefusalAsync(DatasetDefinition, bool, CancellationToken)"/>).
    /// </summary>
    public async Task<Guid> StartAsync(DatasetDefinition dataset, RunTrigger trigger, bool incremental, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var mode = (trigger is RunTrigger.Schedule or RunTrigger.Manual) && !incremental ? "full" : "partial";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await RefusalAsync(connection, transaction, dataset, mode == "full", cancellationToken) is { } refusal)
        {
            throw new DatasetRefusedException(refusal);
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.runs (id, dataset_id, trigger, mode, status, started_at, config_revision, schema_version, base_version)
            values (@id, @DatasetId, @Trigger, @mode, 'running', @now, @ConfigRevision, @SchemaVersion,
                    (select current_version from hub.datasets where id = @DatasetId))
            """,
            new
            {
                id,
                DatasetId = dataset.Id,
                Trigger = trigger.ToString().ToLowerInvariant(),
                mode,
                now,
                dataset.ConfigRevision,
                SchemaVersion = dataset.Schema.Version,
            },
            transaction,
            cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return id;
    }

    /// <summary>
    /// Why the dataset takes no <paramref name="fullRefresh"/> or partial run under <paramref name="dataset"/>'s
    /// definition now, or null when it does: it is withdrawn (classified secret) or blocked by a breaking schema
    /// change, the store has not registered this schema yet (the catalogue was just reloaded), or it waits for a full
    /// run to publish its first version in a new table (pushes and replays are partial).
    /// </summary>
    public async Task<string?> RefusalAsync(DatasetDefinition dataset, bool fullRefresh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        return await RefusalAsync(connection, transaction, dataset, fullRefresh, cancellationToken);
    }

    /// <summary>
    /// Why the registered dataset <paramref name="datasetId"/> takes no run of this kind now, whatever schema the
    /// caller knows (the worker that runs it checks its own schema when the run starts); null when it does.
    /// </summary>
    public async Task<string?> RefusalAsync(string datasetId, bool fullRefresh, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var state = await connection.QuerySingleOrDefaultAsync<DatasetState>(new CommandDefinition(
            "select withdrawn_reason as Withdrawn, blocked_reason as Blocked, pending_table as Pending, true as SameSchema from hub.datasets where id = @datasetId",
            new { datasetId }, cancellationToken: cancellationToken));
        return Refusal(datasetId, state, fullRefresh, null);
    }

    private static async Task<string?> RefusalAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DatasetDefinition dataset, bool fullRefresh, CancellationToken cancellationToken)
    {
        // The row lock keeps a registration from changing the dataset's state until the run is recorded.
        var state = await connection.QuerySingleOrDefaultAsync<DatasetState>(new CommandDefinition(
            """
            select withdrawn_reason as Withdrawn, blocked_reason as Blocked, pending_table as Pending,
                   schema_version = @SchemaVersion and schema_json = @SchemaJson::jsonb as SameSchema
            from hub.datasets where id = @Id for share
            """, new { dataset.Id, SchemaVersion = dataset.Schema.Version, SchemaJson = dataset.Schema.Json }, transaction, cancellationToken: cancellationToken));
        return Refusal(dataset.Id, state, fullRefresh, dataset.Schema);
    }

    private static string? Refusal(string datasetId, DatasetState? state, bool fullRefresh, DatasetSchema? schema) => state switch
    {
        { Withdrawn: { } withdrawn } => $"dataset '{datasetId}' is withdrawn: {withdrawn}",
        { Blocked: { } blocked } => $"dataset '{datasetId}' is blocked: {blocked}",
        { Pending: { } pending } when !fullRefresh =>
            $"dataset '{datasetId}' moves to a new schema version, published in the new table open_data.{pending} by its next full run "
            + $"(POST /api/connectors/{datasetId}/run); pushes and replays are accepted once that version is published",
        null or { SameSchema: false } when schema is not null => $"dataset '{datasetId}': schema version {schema.Version} of {Path.GetFileName(schema.Path)} is not registered in the store yet (connectors.d was just changed); try again in a moment",
        _ => null,
    };

    private sealed record DatasetState(string? Withdrawn, string? Blocked, string? Pending, bool SameSchema);

    /// <summary>
    /// Stores the page's raw payload (content-addressed, once; fetching it again renews its retention) and the
    /// request that returned it, while the run is running: the run's audit entry, written when it ends, holds a
    /// digest of its requests (the share lock waits for a transaction ending the run).
    /// </summary>
    public async Task RecordRequestAsync(Guid runId, int sequence, FetchedPage page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(page);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.payloads (sha256, body, stored_at) values (@PayloadSha256, @Payload, @now) on conflict (sha256) do update set stored_at = excluded.stored_at;
            insert into hub.run_requests (run_id, sequence, url, fetched_at, status_code, payload_sha256, record_count)
            select @runId, @sequence, @Url, @FetchedAt, @StatusCode, @PayloadSha256, @RecordCount
            from hub.runs where id = @runId and status = 'running' for share
            on conflict (run_id, sequence) do nothing;
            """,
            new
            {
                page.PayloadSha256,
                page.Payload,
                now = time.GetUtcNow(),
                runId,
                sequence,
                Url = page.Url.ToString(),
                page.FetchedAt,
                page.StatusCode,
                RecordCount = page.Records.Count,
            },
            cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Content hashes of the published rows of <paramref name="keys"/> that were written by runs under
    /// <paramref name="schemaVersion"/>: a fetched record with the same hash is unchanged and need not be checked again.
    /// A dataset with no published row (a first version) or moving to a new table (still empty) has none: its keys are
    /// not looked up one by one. A row published meanwhile only makes a record be checked that need not have been.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> PublishedHashesAsync(string datasetId, IReadOnlyCollection<string> keys, int schemaVersion, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var (table, empty) = await DatasetRegistry.CurrentTableAsync(connection, datasetId, cancellationToken);
        if (empty)
        {
            return NothingPublished;
        }

        var rows = await connection.QueryAsync<(string Key, string Hash)>(new CommandDefinition(
            $"""
            select t._key, t._hash from {DatasetRegistry.QualifiedTable(table)} t join hub.runs r on r.id = t._run_id
            where t._version_to is null and t._key = any(@keys) and r.schema_version = @schemaVersion
            """, new { keys = keys.ToArray(), schemaVersion }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.Key, r => r.Hash, StringComparer.Ordinal);
    }

    private static readonly IReadOnlyDictionary<string, string> NothingPublished = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Records, as request <paramref name="sequence"/> of a run, a request another run made (lineage of replayed records).</summary>
    public async Task<FetchedRequest> CopyRequestAsync(Guid runId, int sequence, Guid originRunId, int originSequence, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<FetchedRequest>(new CommandDefinition(
            """
            insert into hub.run_requests (run_id, sequence, url, fetched_at, status_code, payload_sha256, record_count)
            select @runId, @sequence, url, fetched_at, status_code, payload_sha256, record_count
            from hub.run_requests where run_id = @originRunId and sequence = @originSequence
            returning sequence as Sequence, url as Url, fetched_at as FetchedAt, status_code as StatusCode, payload_sha256 as PayloadSha256
            """, new { runId, sequence, originRunId, originSequence }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Marks a running run failed with its cause and drops what it staged; the published version stays as it was.
    /// The row lock serializes this with the writer staging a late batch.
    /// </summary>
    public async Task FailAsync(Guid runId, string error, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await MarkFailedAsync(connection, transaction, runId, error, time.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Fails a running run inside the caller's transaction and drops its staged records.</summary>
    internal static async Task MarkFailedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid runId, string error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var failed = await connection.ExecuteAsync(new CommandDefinition(
            "update hub.runs set status = 'failed', error = @error, finished_at = @now where id = @runId and status = 'running'",
            new { runId, error, now }, transaction, cancellationToken: cancellationToken));
        if (failed > 0)
        {
            await StagingTable.DropAsync(connection, transaction, runId, cancellationToken);
            await AuditChain.AppendRunAsync(connection, transaction, runId, now, cancellationToken);
        }
    }
}
