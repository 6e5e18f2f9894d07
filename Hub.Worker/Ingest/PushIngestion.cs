using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Hub.Connectors;
using Hub.Connectors.Http;
using Hub.Core.Messages;
using Hub.Worker.Catalog;
using Hub.Worker.Store;
using Hub.Worker.Telemetry;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Worker.Ingest;

/// <summary>The answer to a push: the run that publishes it, and how many records were accepted (valid) and quarantined.</summary>
public sealed record PushResult(Guid RunId, long Accepted, long Quarantined, bool Repeated = false);

/// <summary>The pushed body is not a JSON array or NDJSON; nothing was stored or published.</summary>
public sealed class PushFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A push with the same Idempotency-Key is still being published.</summary>
public sealed class PushInProgressException(string message) : Exception(message);

/// <summary>
/// Data an agency pushed, run through the same pipeline as a polled page: the raw body is kept content-addressed as
/// the run's only request, every record goes through the dataset's <see cref="Hub.Connectors.Pipeline.RecordChecker"/>,
/// the batches are staged for the writer as a partial run (<see cref="RunTrigger.Push"/>: inserts and
/// updates, and deletes only records marked deleted: <c>deleted_when</c>). With an idempotency key, a repeat of a push returns the first answer and publishes nothing.
/// </summary>
public sealed partial class PushIngestion(
    RunStore runs,
    SnapshotWriter writer,
    NpgsqlDataSource dataSource,
    IBus bus,
    IOptions<ConnectorOptions> options,
    TimeProvider time,
    ILogger<PushIngestion> logger)
{
    private static readonly TimeSpan AbandonedClaim = TimeSpan.FromMinutes(10);

    /// <summary>The answer of an earlier push with this idempotency key, or null.</summary>
    public async Task<PushResult?> FindRepeatAsync(string datasetId, string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(Guid? RunId, long? Accepted, long? Quarantined)>(new CommandDefinition(
            "select run_id, accepted, quarantined from hub.push_requests where dataset_id = @datasetId and idempotency_key = @idempotencyKey",
            new { datasetId, idempotencyKey }, cancellationToken: cancellationToken));
        return row.RunId is { } runId
            ? new PushResult(runId, row.Accepted ?? 0, row.Quarantined ?? 0, Repeated: true)
            : null;
    }

    /// <summary>
    /// Parses, checks and publishes a pushed body. Throws <see cref="PushFormatException"/> for a body that is not
    /// JSON records (nothing is stored then) and <see cref="PushInProgressException"/> when the same idempotency key
    /// is being published right now.
    /// </summary>
    public async Task<PushResult> IngestAsync(CatalogEntry entry, byte[] body, bool ndjson, string path, string? idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(body);
        var datasetId = entry.Dataset.Id;
        var now = time.GetUtcNow();
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(body));
        var document = Parse(body, ndjson);
        using var page = new FetchedPage(new Uri(path, UriKind.Relative), now, 202, body, sha256, document, document.RootElement.EnumerateArray().ToList());
        var records = page.Records;

        if (idempotencyKey is not null)
        {
            if (await FindRepeatAsync(datasetId, idempotencyKey, cancellationToken) is { } earlier)
            {
                return earlier;
            }

            if (!await ReserveAsync(datasetId, idempotencyKey, cancellationToken))
            {
                return await FindRepeatAsync(datasetId, idempotencyKey, cancellationToken)
                       ?? throw new PushInProgressException($"a push to '{datasetId}' with this Idempotency-Key is being published; ask again in a moment");
            }
        }

        Guid runId;
        try
        {
            runId = await runs.StartAsync(entry.Dataset, RunTrigger.Push, cancellationToken);
        }
        catch (Exception)
        {
            if (idempotencyKey is not null)
            {
                await ReleaseAsync(datasetId, idempotencyKey, CancellationToken.None);
            }

            throw;
        }

        LogReceived(logger, datasetId, runId, records.Count, body.LongLength);
        try
        {
            await runs.RecordRequestAsync(runId, 0, page, cancellationToken);
            var request = new FetchedRequest(0, path, now, 202, sha256);
            long accepted = 0, quarantined = 0;
            var batches = 0;
            foreach (var batch in entry.Checker.CheckBatches(records.Select(entry.Checker.Map), options.Value.BatchSize))
            {
                await writer.StageAsync(new FetchedBatch(runId, datasetId, batches++, request, batch.Valid, batch.Rejected, batch.Cleanliness.BlankValues, batch.Cleanliness.UntrimmedValues), cancellationToken);
                accepted += batch.Valid.Count;
                quarantined += batch.Rejected.Count;
            }

            await bus.Publish(new RunFetchCompleted(runId, datasetId, batches, records.Count), cancellationToken);
            HubTelemetry.RecordsFetched.Add(records.Count, new KeyValuePair<string, object?>("dataset", datasetId));
            HubTelemetry.RecordsQuarantined.Add(quarantined, new KeyValuePair<string, object?>("dataset", datasetId));
            if (idempotencyKey is not null)
            {
                await CompleteAsync(datasetId, idempotencyKey, runId, accepted, quarantined, CancellationToken.None);
            }

            LogPublished(logger, datasetId, runId, accepted, quarantined);
            return new PushResult(runId, accepted, quarantined);
        }
        catch (Exception e)
        {
            await runs.FailAsync(runId, $"push failed: {e.Message}", CancellationToken.None);
            if (idempotencyKey is not null)
            {
                await ReleaseAsync(datasetId, idempotencyKey, CancellationToken.None);
            }

            throw;
        }
    }

    /// <summary>A JSON array, or NDJSON (one JSON value per line, blank lines ignored) turned into one.</summary>
    private static JsonDocument Parse(byte[] body, bool ndjson)
    {
        if (!ndjson)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body);
            }
            catch (JsonException e)
            {
                throw new PushFormatException($"the body is not valid JSON: {e.Message}", e);
            }

            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                var kind = document.RootElement.ValueKind.ToString().ToLowerInvariant();
                document.Dispose();
                throw new PushFormatException($"the body is a JSON {kind}; send a JSON array of records (or NDJSON with Content-Type application/x-ndjson)");
            }

            return document;
        }

        var array = new StringBuilder("[");
        var line = 0;
        var first = true;
        using var reader = new StringReader(Encoding.UTF8.GetString(body));
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            try
            {
                using var value = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                throw new PushFormatException($"NDJSON line {line} is not one JSON value: {e.Message}", e);
            }

            array.Append(first ? string.Empty : ",").Append(text);
            first = false;
        }

        return JsonDocument.Parse(array.Append(']').ToString());
    }

    /// <summary>
    /// Claims the key for this push. A claim that never got its run (the API process died while publishing) is
    /// taken over after <see cref="AbandonedClaim"/>.
    /// </summary>
    private async Task<bool> ReserveAsync(string datasetId, string idempotencyKey, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.push_requests (dataset_id, idempotency_key, created_at) values (@datasetId, @idempotencyKey, @now)
            on conflict (dataset_id, idempotency_key) do update set created_at = excluded.created_at
            where hub.push_requests.run_id is null and hub.push_requests.created_at < @abandoned
            """, new { datasetId, idempotencyKey, now, abandoned = now - AbandonedClaim }, cancellationToken: cancellationToken)) > 0;
    }

    private async Task CompleteAsync(string datasetId, string idempotencyKey, Guid runId, long accepted, long quarantined, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            update hub.push_requests set run_id = @runId, accepted = @accepted, quarantined = @quarantined
            where dataset_id = @datasetId and idempotency_key = @idempotencyKey
            """, new { datasetId, idempotencyKey, runId, accepted, quarantined }, cancellationToken: cancellationToken));
    }

    /// <summary>A push that failed gives its idempotency key back, so the agency can retry with it.</summary>
    private async Task ReleaseAsync(string datasetId, string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from hub.push_requests where dataset_id = @datasetId and idempotency_key = @idempotencyKey and run_id is null",
            new { datasetId, idempotencyKey }, cancellationToken: cancellationToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Push to {DatasetId}: run {RunId} received {Records} records ({Bytes} bytes)")]
    private static partial void LogReceived(ILogger logger, string datasetId, Guid runId, int records, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Push to {DatasetId}: run {RunId} published {Accepted} accepted and {Quarantined} quarantined records to the writer")]
    private static partial void LogPublished(ILogger logger, string datasetId, Guid runId, long accepted, long quarantined);
}
