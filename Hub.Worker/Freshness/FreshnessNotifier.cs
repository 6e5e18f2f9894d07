using Dapper;
using Hub.Core.Freshness;
using Hub.Core.Messages;
using MassTransit;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Hub.Worker.Freshness;

/// <summary>
/// Evaluates every obligation and publishes <see cref="FreshnessObligationChanged"/> for each one that turned at risk,
/// late or missing since the state last announced (kept in <c>hub.freshness_events</c>), so each transition goes out once.
/// The events are recorded and published in one transaction: a failed publish rolls back and is retried next time.
/// </summary>
public sealed partial class FreshnessNotifier(
    FreshnessStore store,
    NpgsqlDataSource dataSource,
    IPublishEndpoint publisher,
    TimeProvider time,
    ILogger<FreshnessNotifier> logger)
{
    private static readonly ObligationState[] Announced = [ObligationState.AtRisk, ObligationState.Late, ObligationState.Missing];

    /// <summary>Returns the transitions published.</summary>
    public async Task<IReadOnlyList<FreshnessObligationChanged>> NotifyAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var obligations = await store.ObligationsAsync(new ObligationFilter(), now, cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('hub:freshness-events'))", transaction: transaction, cancellationToken: cancellationToken));
        var last = (await connection.QueryAsync<(string DatasetId, string Period, string State)>(new CommandDefinition(
            "select distinct on (dataset_id, period) dataset_id, period, new_state from hub.freshness_events order by dataset_id, period, id desc",
            transaction: transaction, cancellationToken: cancellationToken))).ToDictionary(e => (e.DatasetId, e.Period), e => e.State);

        var changes = new List<FreshnessObligationChanged>();
        foreach (var o in obligations.Where(o => Announced.Contains(o.State)))
        {
            var previous = last.GetValueOrDefault((o.DatasetId, o.Period));
            if (previous == FreshnessNames.Of(o.State))
            {
                continue;
            }

            ObligationState? old = FreshnessNames.TryParseState(previous, out var parsed) ? parsed : null;
            changes.Add(new FreshnessObligationChanged(o.DatasetId, o.AgencyCode, o.Period, old, o.State, o.Deadline, o.DaysLate, now));
        }

        foreach (var change in changes)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                insert into hub.freshness_events (dataset_id, agency_code, period, old_state, new_state, deadline, days_late, occurred_at)
                values (@DatasetId, @AgencyCode, @Period, @Old, @New, @Deadline, @DaysLate, @EvaluatedAt)
                """,
                new
                {
                    change.DatasetId,
                    change.AgencyCode,
                    change.Period,
                    Old = change.OldState is { } o ? FreshnessNames.Of(o) : null,
                    New = FreshnessNames.Of(change.NewState),
                    Deadline = change.Deadline.ToUniversalTime(), // Npgsql writes timestamptz from UTC values only
                    change.DaysLate,
                    EvaluatedAt = change.EvaluatedAt.ToUniversalTime(),
                },
                transaction,
                cancellationToken: cancellationToken));
            await publisher.Publish(change, cancellationToken);
            LogChanged(logger, change.DatasetId, change.Period, change.NewState, change.Deadline);
        }

        await transaction.CommitAsync(cancellationToken);
        LogEvaluated(logger, obligations.Count, changes.Count);
        return changes;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Obligation {DatasetId} {Period} is now {State} (deadline {Deadline})")]
    private static partial void LogChanged(ILogger logger, string datasetId, string period, ObligationState state, DateTimeOffset deadline);

    [LoggerMessage(Level = LogLevel.Information, Message = "Evaluated {Count} freshness obligations, {Changed} changes published")]
    private static partial void LogEvaluated(ILogger logger, int count, int changed);
}
