using System.Text.Json;
using Dapper;
using Hub.Core.Messages;
using Hub.Worker.Catalog;
using Hub.Worker.Store;
using MassTransit;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Hub.Worker.Quarantine;

/// <summary>What a replay did: the run that publishes the records that now pass, and how many were looked at.</summary>
public sealed record ReplayResult(Guid? RunId, int Checked, int Passed, int StillFailing);

/// <summary>
/// Checks quarantined records of a dataset again with the catalogue's current schema and checker (after a fix),
/// and publishes those that now pass through the normal writer as a partial run, with lineage to the request
/// that originally fetched them. Only the newest quarantined record of a key is replayed, and only when no
/// later run has published or deleted that key since, so a replay never overwrites newer data nor brings back a
/// deleted record. A record is replayed once:
/// <c>replayed_run_id</c> names the run that replays it, and only if that run failed is it replayable again.
/// </summary>
public sealed partial class QuarantineReplay(HubCatalog catalog, NpgsqlDataSource dataSource, RunStore runs, SnapshotWriter writer, AuditChain audit, IBus bus, ILogger<QuarantineReplay> logger)
{
    private const int BatchSize = 500;

    /// <summary>
    /// Returns null when the dataset is not in the catalogue; throws <see cref="DatasetRefusedException"/> when it takes
    /// no partial run now (blocked by a breaking schema change, withdrawn, or waiting for a full run into a new table).
    /// <paramref name="by"/> (who asked: the operator key's signature) is chained with the replay's audit event.
    /// </summary>
    public async Task<ReplayResult?> ReplayAsync(string datasetId, string by, CancellationToken cancellationToken)
    {
        if (catalog.Find(datasetId) is not { } entry)
        {
            return null;
        }

        if (await runs.RefusalAsync(entry.Dataset, fullRefresh: false, cancellationToken) is { } refusal)
        {
            throw new DatasetRefusedException(refusal);
        }

        List<Candidate> candidates;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            var table = DatasetRegistry.QualifiedTable((await DatasetRegistry.CurrentTableAsync(connection, datasetId, cancellationToken)).Table);
            candidates = (await connection.QueryAsync<Candidate>(new CommandDefinition(
                $"""
                select distinct on (coalesce(q.key, q.id::text))
                       q.id as Id, q.run_id as RunId, b.request_sequence as RequestSequence, q.payload as Payload
                from hub.quarantine q
                join hub.run_batches b on b.run_id = q.run_id and b.sequence = q.sequence
                join hub.runs origin on origin.id = q.run_id
                where q.dataset_id = @datasetId
                  and not exists (select 1 from hub.runs replay where replay.id = q.replayed_run_id and replay.status <> 'failed')
                  and not exists (
                      select 1 from {table} t join hub.runs later on later.id = t._run_id
                      where t._key = q.key and later.started_at > origin.started_at)
                  and not exists (
                      select 1 from {table} t
                      join hub.versions v on v.dataset_id = @datasetId and v.version = t._version_to
                      join hub.runs later on later.id = v.run_id
                      where t._key = q.key and later.started_at > origin.started_at)
                order by coalesce(q.key, q.id::text), q.id desc
                """, new { datasetId }, cancellationToken: cancellationToken))).AsList();
        }

        var passed = new List<(Candidate Candidate, ValidRecord Record)>();
        foreach (var candidate in candidates)
        {
            using var document = JsonDocument.Parse(candidate.Payload);
            if (entry.Checker.Check(document.RootElement).Valid is { } valid)
            {
                passed.Add((candidate, valid));
            }
        }

        if (passed.Count == 0)
        {
            return new ReplayResult(null, candidates.Count, 0, candidates.Count);
        }

        var runId = await runs.StartAsync(entry.Dataset, RunTrigger.Replay, cancellationToken);
        try
        {
            // The records are claimed by the run and the replay is chained in one transaction, before any batch is sent:
            // a replay is either claimed and audited, or neither (its run failed, its records replayable again).
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                "update hub.quarantine set replayed_run_id = @runId where id = any(@ids)",
                new { runId, ids = passed.Select(p => p.Candidate.Id).ToArray() }, transaction, cancellationToken: cancellationToken));
            await audit.AppendEventAsync(connection, transaction, "quarantine replay", datasetId, new { run = runId, @checked = candidates.Count, passed = passed.Count, by }, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException)
        {
            await runs.FailAsync(runId, $"replay not recorded: {e.Message}", CancellationToken.None);
            throw;
        }

        var batches = 0;
        var requests = passed.GroupBy(p => (p.Candidate.RunId, p.Candidate.RequestSequence)).ToList();
        for (var sequence = 0; sequence < requests.Count; sequence++)
        {
            var origin = requests[sequence].Key;
            var request = await runs.CopyRequestAsync(runId, sequence, origin.RunId, origin.RequestSequence, cancellationToken);
            foreach (var chunk in requests[sequence].Chunk(BatchSize))
            {
                await writer.StageAsync(new FetchedBatch(runId, datasetId, batches++, request, chunk.Select(p => p.Record).ToList(), []), cancellationToken);
            }
        }

        await bus.Publish(new RunFetchCompleted(runId, datasetId, batches, passed.Count), cancellationToken);
        LogReplayed(logger, datasetId, runId, passed.Count, candidates.Count);
        return new ReplayResult(runId, candidates.Count, passed.Count, candidates.Count - passed.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replay of {DatasetId}: run {RunId} publishes {Passed} of {Checked} quarantined records")]
    private static partial void LogReplayed(ILogger logger, string datasetId, Guid runId, int passed, int @checked);

    private sealed record Candidate(long Id, Guid RunId, int RequestSequence, string Payload);
}
