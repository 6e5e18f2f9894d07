using System.Text.Json;
using Dapper;
using Hub.Core.Catalog;
using Hub.Core.Freshness;
using Hub.Worker.Store;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Hub.Worker.Freshness;

/// <summary>What a freshness query selects; null fields select everything.</summary>
public sealed record ObligationFilter(string? Agency = null, string? Dataset = null, ObligationState? State = null, string? Period = null);

/// <summary>Whether a dataset's connector keeps up with its own schedule, apart from whether the agency's data is late.</summary>
public sealed record ConnectorFreshness(
    string DatasetId,
    string AgencyCode,
    string Schedule,
    DateTimeOffset? LastSucceededAt,
    DateTimeOffset? LastRunAt,
    string? LastRunStatus,
    DateTimeOffset? DueSince,
    bool BehindSchedule);

/// <summary>A transition published on the bus, as the operator API lists it.</summary>
public sealed record FreshnessEvent(long Id, string DatasetId, string AgencyCode, string Period, string? OldState, string NewState, DateTimeOffset Deadline, int? DaysLate, DateTimeOffset OccurredAt);

public enum StatementResult
{
    Recorded,
    UnknownDataset,
    AlreadyRecorded,
}

/// <summary>
/// Reads what the freshness rules need from the store (datasets, cycle history, versions, runs, waivers,
/// confirmations, period coverage) and records waivers and "no change" confirmations. A dataset withdrawn as secret
/// owes nothing: it is left out of obligations, the connector view and the reports.
/// </summary>
public sealed partial class FreshnessStore(NpgsqlDataSource dataSource, FreshnessRules rules, AuditChain audit, ILogger<FreshnessStore> logger)
{
    private sealed record DatasetRow(string Id, string AgencyCode, string TableName, string SchemaJson, DateTimeOffset RegisteredAt);

    public FreshnessRules Rules => rules;

    /// <summary>Every obligation selected by <paramref name="filter"/>, evaluated at <paramref name="now"/>.</summary>
    public async Task<IReadOnlyList<Obligation>> ObligationsAsync(ObligationFilter filter, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var histories = await HistoriesAsync(filter.Agency, filter.Dataset, cancellationToken);
        return histories
            .SelectMany(h => rules.Evaluate(h, now))
            .Where(o => (filter.State is null || o.State == filter.State) && (filter.Period is null || o.Period == filter.Period))
            .OrderBy(o => o.AgencyCode, StringComparer.Ordinal).ThenBy(o => o.DatasetId, StringComparer.Ordinal).ThenBy(o => o.PeriodStart).ThenBy(o => o.Cycle, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The compliance report over Vietnam days <paramref name="from"/> to <paramref name="to"/>, as of
    /// <paramref name="cutOff"/>: facts recorded after the cut-off are left out, so a report can be reproduced.
    /// </summary>
    public async Task<ComplianceReport> ReportAsync(
        string title, DateOnly from, DateOnly to, DateTimeOffset cutOff, DateTimeOffset generatedAt, string? agency, CancellationToken cancellationToken)
    {
        var obligations = await ObligationsAsync(new ObligationFilter(Agency: agency), cutOff, cancellationToken);
        var start = VietnamCalendar.StartOfDay(from);
        var end = VietnamCalendar.StartOfDay(to.AddDays(1));
        if (cutOff < end)
        {
            end = cutOff;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var activity = await connection.QueryAsync<AgencyActivity>(new CommandDefinition(
            """
            select d.agency_code as AgencyCode, max(d.agency_name) as AgencyName, count(*)::int as Datasets,
                   coalesce(sum(v.published), 0)::bigint as RecordsPublished,
                   coalesce(sum(r.checked), 0)::bigint as RecordsChecked,
                   coalesce(sum(r.quarantined), 0)::bigint as RecordsQuarantined
            from hub.datasets d
            left join lateral (
                select sum(x.inserted + x.updated) as published from hub.versions x
                where x.dataset_id = d.id and x.published_at >= @start and x.published_at < @end) v on true
            left join lateral (
                select sum(x.valid + x.quarantined) as checked, sum(x.quarantined) as quarantined from hub.runs x
                where x.dataset_id = d.id and x.status <> 'running' and x.finished_at >= @start and x.finished_at < @end) r on true
            where d.registered_at <= @cutOff and d.withdrawn_reason is null and (@agency::text is null or d.agency_code = @agency)
            group by d.agency_code
            """, new { start = start.ToUniversalTime(), end = end.ToUniversalTime(), cutOff = cutOff.ToUniversalTime(), agency }, cancellationToken: cancellationToken));
        return ComplianceReport.Build(title, from, to, cutOff, generatedAt, obligations, activity);
    }

    /// <summary>True when some dataset belongs to the agency.</summary>
    public async Task<bool> AgencyExistsAsync(string agency, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from hub.datasets where agency_code = @agency)", new { agency }, cancellationToken: cancellationToken));
    }

    /// <summary>True when the dataset is in the store's catalogue.</summary>
    public async Task<bool> DatasetExistsAsync(string dataset, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from hub.datasets where id = @dataset)", new { dataset }, cancellationToken: cancellationToken));
    }

    public Task<StatementResult> AddWaiverAsync(string dataset, string period, string reason, string by, DateTimeOffset now, CancellationToken cancellationToken) =>
        AddStatementAsync("waiver", "insert into hub.freshness_waivers (dataset_id, period, reason, waived_by, created_at)", dataset, period, reason, by, now, cancellationToken);

    public Task<StatementResult> AddConfirmationAsync(string dataset, string period, string reason, string by, DateTimeOffset now, CancellationToken cancellationToken) =>
        AddStatementAsync("confirmation", "insert into hub.freshness_confirmations (dataset_id, period, reason, confirmed_by, created_at)", dataset, period, reason, by, now, cancellationToken);

    /// <summary>Each dataset's connector: last success, last run, and whether a scheduled run is overdue.</summary>
    public async Task<IReadOnlyList<ConnectorFreshness>> ConnectorsAsync(DateTimeOffset now, TimeSpan grace, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Id, string AgencyCode, string Schedule, DateTimeOffset RegisteredAt, DateTimeOffset? LastSucceededAt, DateTimeOffset? LastRunAt, string? LastRunStatus)>(new CommandDefinition(
            """
            select d.id, d.agency_code, d.schedule, d.registered_at,
                   (select max(r.finished_at) from hub.runs r where r.dataset_id = d.id and r.status = 'succeeded' and r.finished_at <= @now),
                   l.started_at, l.status
            from hub.datasets d
            left join lateral (
                select r.started_at, r.status from hub.runs r where r.dataset_id = d.id and r.started_at <= @now order by r.started_at desc limit 1) l on true
            where d.registered_at <= @now and d.withdrawn_reason is null
            order by d.agency_code, d.id
            """, new { now = now.ToUniversalTime() }, cancellationToken: cancellationToken));
        return rows.Select(r =>
        {
            var dueSince = ConnectorSchedule.NextFireAfter(r.Schedule, r.LastSucceededAt ?? r.RegisteredAt);
            return new ConnectorFreshness(
                r.Id, r.AgencyCode, r.Schedule, r.LastSucceededAt, r.LastRunAt, r.LastRunStatus,
                dueSince, dueSince is { } due && due + grace < now);
        }).ToList();
    }

    /// <summary>The transitions published on the bus, newest first.</summary>
    public async Task<IReadOnlyList<FreshnessEvent>> EventsAsync(string? dataset, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<FreshnessEvent>(new CommandDefinition(
            """
            select id as Id, dataset_id as DatasetId, agency_code as AgencyCode, period as Period, old_state as OldState,
                   new_state as NewState, deadline as Deadline, days_late as DaysLate, occurred_at as OccurredAt
            from hub.freshness_events where @dataset::text is null or dataset_id = @dataset
            order by id desc limit @limit
            """, new { dataset, limit }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    /// <summary>
    /// The histories of the selected datasets, with every fact the rules may use; withdrawn datasets are left out. A
    /// dataset whose period coverage cannot be read is left out too (and logged), so it never hides the others.
    /// </summary>
    public async Task<IReadOnlyList<DatasetHistory>> HistoriesAsync(string? agency, string? dataset, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var selection = new { agency, dataset };
        const string Where = "withdrawn_reason is null and (@agency::text is null or agency_code = @agency) and (@dataset::text is null or id = @dataset)";
        const string Selected = $"(select id from hub.datasets where {Where})";
        var datasets = (await connection.QueryAsync<DatasetRow>(new CommandDefinition(
            $"""
            select id as Id, agency_code as AgencyCode, table_name as TableName, schema_json::text as SchemaJson, registered_at as RegisteredAt
            from hub.datasets where {Where}
            order by id
            """, selection, cancellationToken: cancellationToken))).AsList();
        var cycles = (await connection.QueryAsync<(string DatasetId, string Cycle, DateTimeOffset EffectiveFrom)>(new CommandDefinition(
            $"select dataset_id, update_cycle, effective_from from hub.dataset_cycles where dataset_id in {Selected} order by effective_from",
            selection, cancellationToken: cancellationToken))).ToLookup(c => c.DatasetId);
        var versions = (await connection.QueryAsync<(string DatasetId, long Version, DateTimeOffset PublishedAt)>(new CommandDefinition(
            $"select dataset_id, version, published_at from hub.versions where dataset_id in {Selected} order by version",
            selection, cancellationToken: cancellationToken))).ToLookup(v => v.DatasetId);
        var runs = (await connection.QueryAsync<(string DatasetId, DateTimeOffset FinishedAt)>(new CommandDefinition(
            $"select dataset_id, finished_at from hub.runs where status = 'succeeded' and finished_at is not null and dataset_id in {Selected}",
            selection, cancellationToken: cancellationToken))).ToLookup(r => r.DatasetId);
        var waivers = (await connection.QueryAsync<(string DatasetId, string Period, string Reason, string By, DateTimeOffset At)>(new CommandDefinition(
            $"select dataset_id, period, reason, waived_by, created_at from hub.freshness_waivers where dataset_id in {Selected}",
            selection, cancellationToken: cancellationToken))).ToLookup(w => w.DatasetId);
        var confirmations = (await connection.QueryAsync<(string DatasetId, string Period, string Reason, string By, DateTimeOffset At)>(new CommandDefinition(
            $"select dataset_id, period, reason, confirmed_by, created_at from hub.freshness_confirmations where dataset_id in {Selected}",
            selection, cancellationToken: cancellationToken))).ToLookup(w => w.DatasetId);

        var histories = new List<DatasetHistory>(datasets.Count);
        foreach (var d in datasets)
        {
            Dictionary<long, HashSet<string>?>? coverage = null;
            if (PeriodField(d.SchemaJson) is { } field)
            {
                try
                {
                    coverage = await CoverageAsync(connection, d.Id, d.TableName, field, cancellationToken);
                }
                catch (PostgresException e)
                {
                    LogCoverageUnreadable(logger, d.Id, e);
                    continue;
                }
            }

            histories.Add(new DatasetHistory(
                d.Id,
                d.AgencyCode,
                d.RegisteredAt,
                cycles[d.Id].Select(c => new CycleChange(FreshnessNames.TryParseCycle(c.Cycle, out var cycle) ? cycle : UpdateCycle.Irregular, c.EffectiveFrom)).ToList(),
                versions[d.Id].Select(v => new PublicationFact(v.Version, v.PublishedAt, coverage is null ? null : coverage.TryGetValue(v.Version, out var covered) ? covered : new HashSet<string>())).ToList(),
                runs[d.Id].Select(r => r.FinishedAt).ToList(),
                waivers[d.Id].Select(w => new Waiver(w.Period, w.Reason, w.By, w.At)).ToList(),
                confirmations[d.Id].Select(c => new NoChangeConfirmation(c.Period, c.Reason, c.By, c.At)).ToList()));
        }

        return histories;
    }

    /// <summary>The top-level schema property annotated <c>"x-period": true</c>, if any.</summary>
    public static string? PeriodField(string schemaJson)
    {
        using var schema = JsonDocument.Parse(schemaJson);
        if (!schema.RootElement.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var property in properties.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("x-period", out var flag) && flag.ValueKind == JsonValueKind.True)
            {
                return property.Name;
            }
        }

        return null;
    }

    /// <summary>
    /// For each version of the dataset, the periods covered by the records it published (inserted or updated: the rows
    /// whose <c>_version_from</c> is that version), read from their period-field values (see <see cref="ReportingPeriod.CoveredBy"/>)
    /// in the version's own table (<c>hub.versions.table_name</c>, or the dataset's <paramref name="currentTable"/>), so
    /// versions published before a switch to a new table keep their coverage. A version whose table has no column for
    /// <paramref name="field"/> (a breaking change renamed it, and the new table is still pending) maps to null: its
    /// periods cannot be read, and the rules count it as for a dataset without a period field.
    /// </summary>
    private static async Task<Dictionary<long, HashSet<string>?>> CoverageAsync(NpgsqlConnection connection, string datasetId, string currentTable, string field, CancellationToken cancellationToken)
    {
        var tables = await connection.QueryAsync<(string Table, bool HasField)>(new CommandDefinition(
            """
            select t.name, exists (
                select 1 from information_schema.columns c
                where c.table_schema = 'open_data' and c.table_name = t.name and c.column_name = @field)
            from (select distinct coalesce(v.table_name, @currentTable) as name from hub.versions v where v.dataset_id = @datasetId) t
            """, new { datasetId, currentTable, field }, cancellationToken: cancellationToken));
        var coverage = new Dictionary<long, HashSet<string>?>();
        foreach (var (table, hasField) in tables)
        {
            if (!hasField)
            {
                var versions = await connection.QueryAsync<long>(new CommandDefinition(
                    "select version from hub.versions where dataset_id = @datasetId and coalesce(table_name, @currentTable) = @table",
                    new { datasetId, currentTable, table }, cancellationToken: cancellationToken));
                foreach (var version in versions)
                {
                    coverage[version] = null;
                }

                continue;
            }

            var rows = await connection.QueryAsync<(long Version, string Value)>(new CommandDefinition(
                $"""
                select distinct v.version, t.{DatasetRegistry.Quote(field)}::text
                from hub.versions v
                join {DatasetRegistry.QualifiedTable(table)} t on t._version_from = v.version
                where v.dataset_id = @datasetId and coalesce(v.table_name, @currentTable) = @table and t.{DatasetRegistry.Quote(field)} is not null
                """, new { datasetId, currentTable, table }, cancellationToken: cancellationToken));
            foreach (var g in rows.GroupBy(r => r.Version))
            {
                coverage[g.Key] = ReportingPeriod.CoveredBy(g.Select(r => r.Value));
            }
        }

        return coverage;
    }

    private async Task<StatementResult> AddStatementAsync(string action, string insert, string dataset, string period, string reason, string by, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!await DatasetExistsAsync(dataset, cancellationToken))
        {
            return StatementResult.UnknownDataset;
        }

        // The statement and its audit entry are one transaction: if the append fails, no statement is left to refuse a retry.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var added = await connection.ExecuteAsync(new CommandDefinition(
            insert + " values (@dataset, @period, @reason, @by, @now) on conflict do nothing",
            new { dataset, period, reason, by, now = now.ToUniversalTime() }, transaction, cancellationToken: cancellationToken));
        if (added == 0)
        {
            return StatementResult.AlreadyRecorded;
        }

        await audit.AppendEventAsync(connection, transaction, action, dataset, new { period, reason, by }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return StatementResult.Recorded;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Freshness of {DatasetId} left out: its period coverage could not be read")]
    private static partial void LogCoverageUnreadable(ILogger logger, string datasetId, Exception exception);
}
