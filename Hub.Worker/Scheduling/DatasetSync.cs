using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Hub.Connectors;
using Hub.Connectors.Http;
using Hub.Connectors.Pipeline;
using Hub.Core.Catalog;
using Hub.Core.Messages;
using Hub.Worker.Catalog;
using Hub.Worker.Store;
using Hub.Worker.Telemetry;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Scheduling;

/// <summary>
/// One run of a polled dataset: fetch every page, keep each raw payload, check every record, stage the batches
/// (claim check: the records go to the run's staging table, not over the bus; two batches are staged while the next is
/// checked) and publish the end of the fetch to the writer. A failure fails the run and leaves the published version
/// as it was.
/// </summary>
public sealed partial class DatasetSync(
    HubCatalog catalog,
    RecordSources sources,
    RunStore runs,
    SyncCursors cursors,
    SnapshotWriter writer,
    IBus bus,
    AutoPause autoPause,
    IOptions<ConnectorOptions> options,
    ILogger<DatasetSync> logger)
{
    public async Task<Guid> RunAsync(string datasetId, RunTrigger trigger, CancellationToken cancellationToken)
    {
        var entry = catalog.Find(datasetId) ?? throw new KeyNotFoundException($"dataset '{datasetId}' is not in the catalogue");
        var dataset = entry.Dataset;
        var source = dataset.Source;
        var incremental = dataset.Incremental;
        var since = incremental is null ? null : await cursors.GetAsync(datasetId, cancellationToken);
        if (incremental is not null && since is not null)
        {
            source = IncrementalQuery.Apply(source, incremental, since);
        }

        var runId = await runs.StartAsync(dataset, trigger, incremental: since is not null, cancellationToken);
        using var activity = HubTelemetry.Source.StartActivity("sync dataset");
        activity?.SetTag("hub.dataset", datasetId);
        activity?.SetTag("hub.run", runId);
        LogStarted(logger, datasetId, runId, trigger);
        var batchSize = options.Value.BatchSize;
        int requests = 0, batches = 0;
        long fetched = 0, rejectedTotal = 0;
        string? maxCursor = null;
        var staging = new StagingInFlight();
        try
        {
            // Up to two pages are fetched and prepared (mapped, lineage stored, published hashes looked up) while this
            // one is checked, and one batch is staged while the next is checked.
            var pages = PrepareAsync(sources.FetchAsync(source, cancellationToken), entry, runId, cancellationToken).Prefetch(ahead: 2, cancellationToken);
            await foreach (var page in pages)
            {
                using (page)
                {
                    var request = new FetchedRequest(page.Sequence, page.Page.Url.ToString(), page.Page.FetchedAt, page.Page.StatusCode, page.Page.PayloadSha256);
                    foreach (var batch in entry.Checker.CheckBatches(page.Mapped, batchSize, page.Published, record => maxCursor = Later(maxCursor, CursorValue(record, incremental))))
                    {
                        await staging.MakeRoomAsync(batches);
                        staging.Add(writer.StageAsync(new FetchedBatch(runId, datasetId, batches++, request, batch.Valid, batch.Rejected, batch.Cleanliness.BlankValues, batch.Cleanliness.UntrimmedValues), cancellationToken));
                        rejectedTotal += batch.Rejected.Count;
                    }

                    fetched += page.Page.Records.Count;
                    requests++;
                }
            }

            await staging.AllAsync();
            await bus.Publish(new RunFetchCompleted(runId, datasetId, batches, fetched, maxCursor), cancellationToken);
            HubTelemetry.RecordsFetched.Add(fetched, new KeyValuePair<string, object?>("dataset", datasetId));
            HubTelemetry.RecordsQuarantined.Add(rejectedTotal, new KeyValuePair<string, object?>("dataset", datasetId));
            LogFetched(logger, datasetId, runId, fetched, rejectedTotal, requests);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await staging.AllAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // batches still being staged end before the run fails
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            HubTelemetry.RunsFinished.Add(1, new KeyValuePair<string, object?>("dataset", datasetId), new KeyValuePair<string, object?>("status", "failed"));
            await runs.FailAsync(runId, e.Message, CancellationToken.None);
            LogFailed(logger, e, datasetId, runId);
            if (trigger is RunTrigger.Schedule or RunTrigger.Manual)
            {
                await autoPause.AfterFailureAsync(datasetId, CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
            await staging.AllAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // batches still being staged end before the run fails
            await runs.FailAsync(runId, "cancelled: the worker was stopping", CancellationToken.None);
            throw;
        }

        return runId;
    }

    /// <summary>
    /// Each fetched page with its records mapped, its lineage stored (request <see cref="PreparedPage.Sequence"/> of the
    /// run) and the hashes its keys have in the published version looked up, the last two at the same time.
    /// </summary>
    private async IAsyncEnumerable<PreparedPage> PrepareAsync(IAsyncEnumerable<FetchedPage> pages, CatalogEntry entry, Guid runId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sequence = 0;
        await foreach (var page in pages.WithCancellation(cancellationToken))
        {
            PreparedPage prepared;
            try
            {
                var mapped = page.Records.Select(entry.Checker.Map).ToList();
                var keys = mapped.Select(m => m.Key).OfType<string>().ToList();
                var recorded = runs.RecordRequestAsync(runId, sequence, page, cancellationToken);
                var lookup = runs.PublishedHashesAsync(entry.Dataset.Id, keys, entry.Dataset.Schema.Version, cancellationToken);
                await Task.WhenAll(recorded, lookup);
                prepared = new PreparedPage(page, sequence++, mapped, await lookup);
            }
            catch
            {
                page.Dispose();
                throw;
            }

            yield return prepared;
        }
    }

    /// <summary>
    /// The batches of a run being staged, each in its own transaction on its own connection: up to two at once, so that
    /// PostgreSQL loads one while the worker writes the next one's rows, and the check of the next batch rarely waits (with
    /// one at a time it waited a fifth of a million-record fetch; docs/performance.md). The first batch, which creates the
    /// run's staging table, is staged alone. The order in which batches commit does not matter: each has its sequence,
    /// and the writer publishes once all are staged.
    /// </summary>
    private sealed class StagingInFlight
    {
        private const int AtOnce = 2;

        private readonly Queue<Task> staging = new();

        /// <summary>Waits until batch <paramref name="sequence"/> may start: batch 1 after batch 0, any later one when fewer than two are under way.</summary>
        public async Task MakeRoomAsync(int sequence)
        {
            while (staging.Count >= (sequence == 1 ? 1 : AtOnce))
            {
                await staging.Dequeue();
            }
        }

        public void Add(Task batch) => staging.Enqueue(batch);

        /// <summary>Waits until every batch under way is staged.</summary>
        public Task AllAsync() => Task.WhenAll(staging);
    }

    /// <summary>The later of two cursor values (null is none).</summary>
    private static string? Later(string? cursor, string? other) =>
        other is not null && (cursor is null || IncrementalDefinition.Compare(other, cursor) > 0) ? other : cursor;

    /// <summary>The cursor field of a source record as text (a string or a number), or null (always, without incremental sync).</summary>
    private static string? CursorValue(JsonElement record, IncrementalDefinition? incremental) =>
        incremental is not null && record.ValueKind == JsonValueKind.Object && record.TryGetProperty(incremental.CursorField, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString() is { Length: > 0 } text ? text : null,
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;

    /// <summary>A fetched page ready to be checked: request <paramref name="Sequence"/> of its run, mapped, with the published hashes of its keys.</summary>
    private sealed record PreparedPage(FetchedPage Page, int Sequence, List<MappedRecord> Mapped, IReadOnlyDictionary<string, string> Published) : IDisposable
    {
        public void Dispose() => Page.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of {DatasetId} started ({Trigger})")]
    private static partial void LogStarted(ILogger logger, string datasetId, Guid runId, RunTrigger trigger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of {DatasetId} fetched {Fetched} records ({Quarantined} quarantined) in {Requests} requests")]
    private static partial void LogFetched(ILogger logger, string datasetId, Guid runId, long fetched, long quarantined, int requests);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId} of {DatasetId} failed; the published version is unchanged")]
    private static partial void LogFailed(ILogger logger, Exception exception, string datasetId, Guid runId);
}
