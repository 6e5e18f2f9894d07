using Dapper;
using Hub.Core.Messages;
using Hub.Worker.Store;
using MassTransit;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Hub.Worker.Messaging;

/// <summary>
/// Sends the change events of published versions, at least once and in version order per dataset. A version is
/// published with <c>events_sent_at</c> null; its record changes and its <see cref="DatasetVersionPublished"/> are
/// sent after that commit, then the version is marked sent. A send that failed is repeated by the run's message
/// retry (<see cref="SendForRunAsync"/>) or, if the worker stopped, by the housekeeping sweep (<see cref="SweepAsync"/>).
/// One sender at a time per dataset (a PostgreSQL advisory lock, not waited for), always from the oldest unsent
/// version, so a resend never announces a version before the one it follows.
/// </summary>
public sealed partial class VersionEvents(NpgsqlDataSource dataSource, SnapshotWriter writer, TimeProvider time, ILogger<VersionEvents> logger)
{
    // The record changes of a version go out in parts of at most this many.
    private const int PartSize = 500;

    private const int LockClass = 0x48564556; // "HVEV": the first key of the per-dataset advisory lock

    /// <summary>When the run is over, sends the unsent versions of its dataset (its own and any earlier one left unsent).</summary>
    public async Task SendForRunAsync(Guid runId, IPublishEndpoint publisher, CancellationToken cancellationToken)
    {
        string? datasetId;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            datasetId = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                """
                select r.dataset_id from hub.runs r
                where r.id = @runId and r.status = 'succeeded'
                  and exists (select 1 from hub.versions v where v.dataset_id = r.dataset_id and v.events_sent_at is null)
                """, new { runId }, cancellationToken: cancellationToken));
        }

        if (datasetId is not null)
        {
            await SendPendingAsync(datasetId, publisher, cancellationToken);
        }
    }

    /// <summary>Sends the events of every dataset that has a version unsent for longer than <paramref name="grace"/> (its worker stopped). Returns how many versions it sent.</summary>
    public async Task<int> SweepAsync(IPublishEndpoint publisher, TimeSpan grace, CancellationToken cancellationToken)
    {
        List<string> datasets;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            datasets = (await connection.QueryAsync<string>(new CommandDefinition(
                "select distinct dataset_id from hub.versions where events_sent_at is null and published_at < @cutoff order by dataset_id",
                new { cutoff = time.GetUtcNow() - grace }, cancellationToken: cancellationToken))).AsList();
        }

        var sent = 0;
        foreach (var datasetId in datasets)
        {
            int count;
            try
            {
                count = await SendPendingAsync(datasetId, publisher, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // One dataset whose events cannot be read or sent (its table dropped by hand, a broker error) must not
                // hold back the others; it stays unsent and is tried again at the next sweep.
                LogSweepFailed(logger, e, datasetId);
                continue;
            }

            if (count > 0)
            {
                LogResent(logger, count, datasetId);
            }

            sent += count;
        }

        return sent;
    }

    /// <summary>
    /// Sends the dataset's unsent versions, oldest first, unless another sender holds the dataset's lock: that one sends
    /// them (a sender looks again after letting the lock go, so a version committed while it was finishing is not left
    /// for the sweep). Not waiting for the lock keeps the writer's consumers free to publish the next runs (pushes in
    /// quick succession waited seconds behind each other's events). Returns how many versions this call sent.
    /// </summary>
    private async Task<int> SendPendingAsync(string datasetId, IPublishEndpoint publisher, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var sent = 0;
        while (await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                   "select pg_try_advisory_lock(@LockClass, hashtext(@datasetId))", new { LockClass, datasetId }, cancellationToken: cancellationToken)))
        {
            try
            {
                // Read under the lock: another sender may have sent them meanwhile. Versions commit in order (the
                // writer locks the dataset's row), so the unsent ones seen here have no unsent gap before them.
                List<PendingVersion> pending;
                while ((pending = (await connection.QueryAsync<PendingVersion>(new CommandDefinition(
                           """
                           select dataset_id as DatasetId, version as Version, run_id as RunId, inserted as Inserted, updated as Updated,
                                  deleted as Deleted, row_count as RowCount, published_at as PublishedAt
                           from hub.versions where dataset_id = @datasetId and events_sent_at is null order by version
                           """, new { datasetId }, cancellationToken: cancellationToken))).AsList()).Count > 0)
                {
                    foreach (var version in pending)
                    {
                        var published = new DatasetVersionPublished(
                            version.DatasetId, version.Version, version.RunId, version.Inserted, version.Updated, version.Deleted, version.RowCount, version.PublishedAt);
                        await PublishRecordChangesAsync(publisher, published, cancellationToken);
                        await publisher.Publish(published, cancellationToken);
                        await connection.ExecuteAsync(new CommandDefinition(
                            "update hub.versions set events_sent_at = @now where dataset_id = @datasetId and version = @Version",
                            new { now = time.GetUtcNow(), datasetId, version.Version }, cancellationToken: cancellationToken));
                    }

                    sent += pending.Count;
                }
            }
            finally
            {
                await connection.ExecuteAsync("select pg_advisory_unlock(@LockClass, hashtext(@datasetId))", new { LockClass, datasetId });
            }

            if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                    "select exists (select 1 from hub.versions where dataset_id = @datasetId and events_sent_at is null)", new { datasetId }, cancellationToken: cancellationToken)))
            {
                break;
            }
        }

        return sent;
    }

    /// <summary>Sends the version's record changes in parts, before the version's own event.</summary>
    private async Task PublishRecordChangesAsync(IPublishEndpoint publisher, DatasetVersionPublished published, CancellationToken cancellationToken)
    {
        var total = published.Inserted + published.Updated + published.Deleted;
        var parts = (int)((total + PartSize - 1) / PartSize);
        var part = 0;
        var changes = new List<RecordChangeEvent>(PartSize);
        await foreach (var change in writer.StreamVersionChangesAsync(published.DatasetId, published.Version, cancellationToken))
        {
            changes.Add(new RecordChangeEvent(change.Op, change.Key, change.Record));
            if (changes.Count == PartSize)
            {
                await PublishPartAsync(++part);
            }
        }

        if (changes.Count > 0)
        {
            await PublishPartAsync(++part);
        }

        async Task PublishPartAsync(int number)
        {
            await publisher.Publish(
                new RecordChangesPublished(
                    "1.0",
                    RecordChangesPublished.IdOf(published.DatasetId, published.Version, number),
                    RecordChangesPublished.SourceOf(published.DatasetId),
                    RecordChangesPublished.EventType,
                    published.PublishedAt,
                    published.DatasetId,
                    published.Version,
                    published.RunId,
                    number,
                    parts,
                    changes.ToList()),
                cancellationToken);
            changes.Clear();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sent the change events of {Count} version(s) of {DatasetId} that were left unsent (the worker publishing them stopped or the broker failed)")]
    private static partial void LogResent(ILogger logger, int count, string datasetId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not send the change events left unsent for {DatasetId}; the next sweep tries again")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception, string datasetId);

    private sealed record PendingVersion(string DatasetId, long Version, Guid RunId, long Inserted, long Updated, long Deleted, long RowCount, DateTimeOffset PublishedAt);
}
