using System.Security.Claims;
using Dapper;
using Hub.Api.Access;
using Hub.Api.Runs;
using Hub.Worker.Catalog;
using Hub.Worker.Scheduling;
using Hub.Worker.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Quartz;

namespace Hub.Api.Connectors;

/// <summary>
/// What an operator sees of one connector: its schedule state, next and last run, failures since the last success,
/// why it paused itself (<see cref="AutoPause"/>; null when it did not), and the errors of its connectors.d file
/// when the file's latest edit is broken and the last good version keeps running (hot reload); why it publishes
/// nothing when a breaking schema change blocks it, or why it is withdrawn when its file classifies it secret.
/// </summary>
public sealed record ConnectorStatus(
    string DatasetId,
    string AgencyCode,
    string Schedule,
    string State,
    DateTimeOffset? NextRunAt,
    long ConsecutiveFailures,
    RunSummary? LastRun,
    string? PausedReason = null,
    string? ConfigError = null,
    string? BlockedReason = null,
    string? WithdrawnReason = null);

public static class ConnectorsApi
{
    /// <summary><c>GET /api/connectors</c> (public); <c>POST /api/connectors/{dataset}/run|pause|resume|reset|backfill</c> (operators).</summary>
    public static IEndpointRouteBuilder MapConnectorsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/connectors").WithTags("Connectors");
        group.MapGet("/", ListAsync).WithSummary("Every connector: state, next run, last run and its outcome, consecutive failures");
        group.MapPost("/{dataset}/run", RunAsync).WithSummary("Runs the connector now on a worker (202; follow it in /api/runs?dataset=)").RequireAuthorization(AccessPolicies.Operator);
        group.MapPost("/{dataset}/pause", (ISchedulerFactory schedulers, NpgsqlDataSource dataSource, AuditChain audit, ClaimsPrincipal user, string dataset, CancellationToken cancellationToken) =>
            ChangeAsync(schedulers, dataSource, dataset, async (scheduler, key) =>
            {
                await scheduler.PauseJob(key, cancellationToken);
                await audit.AppendEventAsync("pause", dataset, By(user), cancellationToken);
            }, cancellationToken)).WithSummary("Stops the connector's schedule until resumed").RequireAuthorization(AccessPolicies.Operator);
        group.MapPost("/{dataset}/resume", (ISchedulerFactory schedulers, NpgsqlDataSource dataSource, AuditChain audit, ClaimsPrincipal user, TimeProvider time, string dataset, CancellationToken cancellationToken) =>
            ChangeAsync(schedulers, dataSource, dataset, async (scheduler, key) =>
            {
                await AutoPause.ClearAsync(dataSource, dataset, time.GetUtcNow(), cancellationToken);
                await scheduler.ResumeJob(key, cancellationToken);
                await audit.AppendEventAsync("resume", dataset, By(user), cancellationToken);
            }, cancellationToken)).WithSummary("Resumes a paused connector's schedule (also one that paused itself after repeated failures: its reason is cleared and failures are counted anew)").RequireAuthorization(AccessPolicies.Operator);
        group.MapPost("/{dataset}/reset", ResetAsync).WithSummary("Clears the incremental-sync cursor: the next run is a full refresh").RequireAuthorization(AccessPolicies.Operator);
        group.MapPost("/{dataset}/backfill", BackfillAsync).WithSummary("Sets the incremental-sync cursor: the next run asks for the records since ?from= (minus the look-back)").RequireAuthorization(AccessPolicies.Operator);
        return endpoints;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ResetAsync(NpgsqlDataSource dataSource, SyncCursors cursors, ClaimsPrincipal user, string dataset, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(dataSource, dataset, cancellationToken))
        {
            return NotFound(dataset);
        }

        await cursors.ResetAsync(dataset, AccessPolicies.Signature(user), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> BackfillAsync(HubCatalog catalog, SyncCursors cursors, ClaimsPrincipal user, string dataset, string? from, CancellationToken cancellationToken)
    {
        if (catalog.Find(dataset) is not { } entry)
        {
            return NotFound(dataset);
        }

        if (entry.Dataset.Incremental is null)
        {
            return TypedResults.Problem($"dataset '{dataset}' has no 'incremental' section in {Path.GetFileName(entry.Dataset.SourceFile)}; every run is a full refresh", statusCode: StatusCodes.Status409Conflict);
        }

        if (string.IsNullOrWhiteSpace(from))
        {
            return TypedResults.Problem("give the cursor to start from: ?from=2026-01-01T00:00:00+07:00 (a value of the dataset's cursor field)", statusCode: StatusCodes.Status400BadRequest);
        }

        await cursors.SetAsync(dataset, from.Trim(), AccessPolicies.Signature(user), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<IReadOnlyList<ConnectorStatus>>> ListAsync(ISchedulerFactory schedulers, NpgsqlDataSource dataSource, HubCatalog catalog, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Id, string AgencyCode, string Schedule, long Failures, string? PausedReason, string? BlockedReason, string? WithdrawnReason)>(new CommandDefinition(
            """
            select d.id, d.agency_code, d.schedule,
                   (select count(*) from hub.runs f
                    where f.dataset_id = d.id and f.status = 'failed'
                      and f.started_at > coalesce((select max(s.started_at) from hub.runs s where s.dataset_id = d.id and s.status = 'succeeded'), '-infinity')),
                   p.paused_reason, d.blocked_reason, d.withdrawn_reason
            from hub.datasets d left join hub.connector_pauses p on p.dataset_id = d.id
            order by d.id
            """, cancellationToken: cancellationToken));
        var runs = (await connection.QueryAsync<RunSummary>(new CommandDefinition(
            $"select distinct on (r.dataset_id) {RunQueries.SummaryColumns} from hub.runs r order by r.dataset_id, r.started_at desc",
            cancellationToken: cancellationToken))).ToDictionary(r => r.DatasetId);
        var statuses = new List<ConnectorStatus>();
        foreach (var row in rows)
        {
            var key = new TriggerKey(row.Id, SyncDatasetJob.Group);
            var trigger = await scheduler.GetTrigger(key, cancellationToken);
            var state = trigger is null ? "unscheduled" : (await scheduler.GetTriggerState(key, cancellationToken)).ToString().ToLowerInvariant();
            // Schedule and next run from the same trigger: a reload between the query and this read never mixes them.
            var schedule = trigger is ICronTrigger cron ? cron.CronExpressionString ?? row.Schedule : row.Schedule;
            statuses.Add(new ConnectorStatus(row.Id, row.AgencyCode, schedule, state, trigger?.NextFireTimeUtc, row.Failures, runs.GetValueOrDefault(row.Id), row.PausedReason, catalog.ConfigErrorFor(row.Id), row.BlockedReason, row.WithdrawnReason));
        }

        return TypedResults.Ok<IReadOnlyList<ConnectorStatus>>(statuses);
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> RunAsync(
        ISchedulerFactory schedulers, NpgsqlDataSource dataSource, HubCatalog catalog, RunStore runs, SyncCursors cursors, AuditChain audit, ClaimsPrincipal user, string dataset, CancellationToken cancellationToken)
    {
        // The store, not this process's copy of connectors.d (reloaded on its own clock), says what the workers run.
        if (!await ExistsAsync(dataSource, dataset, cancellationToken))
        {
            return NotFound(dataset);
        }

        // The job's run is a full refresh unless the dataset is incremental and has a cursor (see DatasetSync).
        var fullRefresh = catalog.Find(dataset)?.Dataset.Incremental is null || await cursors.GetAsync(dataset, cancellationToken) is null;
        if (await runs.RefusalAsync(dataset, fullRefresh, cancellationToken) is { } refusal)
        {
            return TypedResults.Problem(refusal, statusCode: StatusCodes.Status409Conflict, title: "Conflict");
        }

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.TriggerJob(SyncDatasetJob.KeyFor(dataset), new JobDataMap { [SyncDatasetJob.TriggerKey] = "manual" }, cancellationToken);
        await audit.AppendEventAsync("manual run", dataset, By(user), cancellationToken);
        return TypedResults.Accepted($"/api/runs?dataset={Uri.EscapeDataString(dataset)}");
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ChangeAsync(
        ISchedulerFactory schedulers, NpgsqlDataSource dataSource, string dataset, Func<IScheduler, JobKey, Task> change, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(dataSource, dataset, cancellationToken))
        {
            return NotFound(dataset);
        }

        await change(await schedulers.GetScheduler(cancellationToken), SyncDatasetJob.KeyFor(dataset));
        return TypedResults.NoContent();
    }

    private static async Task<bool> ExistsAsync(NpgsqlDataSource dataSource, string dataset, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from hub.datasets where id = @dataset)", new { dataset }, cancellationToken: cancellationToken));
    }

    /// <summary>The details of an audit event: who acted, from the caller's key.</summary>
    private static object By(ClaimsPrincipal user) => new { by = AccessPolicies.Signature(user) };

    private static ProblemHttpResult NotFound(string dataset) =>
        TypedResults.Problem($"dataset '{dataset}' is not in the catalogue", statusCode: StatusCodes.Status404NotFound);
}
