using System.Globalization;
using Dapper;
using Hub.Core.Catalog;
using Hub.Core.Freshness;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>
/// A schema change the store cannot apply by itself (a property changed type or was removed or renamed, the primary
/// key changed) under the schema version already registered; the dataset is blocked until it is undone or a higher
/// schema version is declared.
/// </summary>
public sealed class BreakingSchemaChangeException(string message) : Exception(message);

/// <summary>
/// Keeps <c>hub.datasets</c> in step with the catalogue and each dataset's typed table in <c>open_data</c>
/// in step with its JSON Schema. Additive changes (new properties) apply themselves; a breaking change needs a new
/// schema version, which publishes into a new table.
/// </summary>
public sealed class DatasetRegistry(NpgsqlDataSource dataSource, TimeProvider time)
{
    /// <summary>System columns of every dataset table; schema properties may not start with '_'.</summary>
    public static readonly IReadOnlyList<string> SystemColumns = ["_key", "_hash", "_version_from", "_version_to", "_run_id", "_batch"];

    public static string TableName(string datasetId) => datasetId.Replace('-', '_');

    /// <summary>
    /// The table that holds the dataset's published rows, or will once its pending table is published (a new schema
    /// version): the rows a new run compares with; and whether it holds no current row (nothing published yet, or a
    /// pending table, which fills when it is published).
    /// </summary>
    public static async Task<(string Table, bool Empty)> CurrentTableAsync(NpgsqlConnection connection, string datasetId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return await connection.QuerySingleOrDefaultAsync<(string, bool)?>(new CommandDefinition(
                   "select coalesce(pending_table, table_name), pending_table is not null or row_count = 0 from hub.datasets where id = @datasetId",
                   new { datasetId }, cancellationToken: cancellationToken))
               ?? (TableName(datasetId), true);
    }

    /// <summary>
    /// The table that holds <paramref name="version"/>'s rows: a version published before the dataset moved to a new
    /// table (a breaking schema version) is stamped with the table it was published in; later ones, and version 0,
    /// are in the dataset's table. Null when the dataset is not registered.
    /// </summary>
    public static Task<string?> VersionTableAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string datasetId, long version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select coalesce(v.table_name, d.table_name) from hub.datasets d left join hub.versions v on v.dataset_id = d.id and v.version = @version where d.id = @datasetId",
            new { datasetId, version }, transaction, cancellationToken: cancellationToken));
    }

    public static string QualifiedTable(string tableName) => $"open_data.{Quote(tableName)}";

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string SqlType(ColumnType type) => type switch
    {
        ColumnType.Text => "text",
        ColumnType.Integer => "bigint",
        ColumnType.Number => "numeric",
        ColumnType.Boolean => "boolean",
        ColumnType.Date => "date",
        ColumnType.DateTime => "timestamptz",
        _ => "jsonb",
    };

    /// <summary>
    /// Registers the dataset and brings its typed table in step with its schema. Additive changes (a new property)
    /// apply themselves. A breaking change (a property that changes type or is removed or renamed, a changed primary
    /// key) under the schema version already registered blocks the dataset: the reason is recorded in
    /// <c>hub.datasets.blocked_reason</c> and <see cref="BreakingSchemaChangeException"/> is thrown. Under a higher
    /// schema version it creates the new table <c>&lt;table&gt;__v&lt;N&gt;</c>, which the next full run publishes into
    /// (the dataset keeps serving its current table until then).
    /// </summary>
    public async Task RegisterAsync(AgencyDefinition agency, DatasetDefinition dataset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agency);
        ArgumentNullException.ThrowIfNull(dataset);
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('dataset:' || @Id))", new { dataset.Id }, transaction, cancellationToken: cancellationToken));
        var registered = await connection.QuerySingleOrDefaultAsync<(string? TableName, string? PendingTable, int SchemaVersion, string[] PrimaryKey, long CurrentVersion)>(new CommandDefinition(
            "select table_name, pending_table, schema_version, primary_key, current_version from hub.datasets where id = @Id for update",
            new { dataset.Id }, transaction, cancellationToken: cancellationToken));
        var isNew = registered.TableName is null;
        var table = registered.PendingTable ?? registered.TableName ?? TableName(dataset.Id);
        var pending = registered.PendingTable;
        var existing = await ColumnsAsync(connection, transaction, table, cancellationToken);
        List<string> breaks = isNew ? [] : Breaks(existing, dataset.Schema, registered.PrimaryKey, dataset.PrimaryKey);
        if (breaks.Count > 0 && dataset.Schema.Version <= registered.SchemaVersion)
        {
            await BlockAsync(
                $"schema version {dataset.Schema.Version} ({Path.GetFileName(dataset.Schema.Path)}) breaks the published table {QualifiedTable(table)}: "
                + string.Join("; ", breaks)
                + $". Nothing is published until the change is undone or the dataset declares 'schema_version: {registered.SchemaVersion + 1}' (a new table)");
        }

        // A new schema version's table is <table>__v<N>: dataset ids cannot hold "--", so no dataset's own table
        // name holds "__" and the name is no other dataset's table. A table some dataset publishes, will publish or
        // has published into is never dropped nor taken over (an earlier version of this dataset may hold the name).
        var newTable = breaks.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $"{TableName(dataset.Id)}__v{dataset.Schema.Version}") : null;
        if (newTable is not null && await TableInUseAsync(connection, transaction, newTable, dataset.Id, cancellationToken))
        {
            await BlockAsync(
                $"schema version {dataset.Schema.Version} ({Path.GetFileName(dataset.Schema.Path)}) breaks the published table {QualifiedTable(table)}: "
                + string.Join("; ", breaks)
                + $", and its new table {QualifiedTable(newTable)} already holds published data. Nothing is published until the dataset declares a schema_version above every one it has used");
        }

        if (breaks.Count > 0)
        {
            // A higher schema version: a table of its own, which the next full run publishes into. A pending table
            // of an earlier version was never published and goes; so does the incremental cursor (the run is full).
            var stale = pending;
            pending = newTable!;
            foreach (var drop in new[] { stale, pending }.OfType<string>())
            {
                if (drop == stale && await TableInUseAsync(connection, transaction, drop, dataset.Id, cancellationToken))
                {
                    continue;
                }

                await connection.ExecuteAsync(new CommandDefinition(
                    $"drop table if exists {QualifiedTable(drop)}; delete from hub.added_columns where table_name = @drop",
                    new { drop }, transaction, cancellationToken: cancellationToken));
            }

            await connection.ExecuteAsync(new CommandDefinition(
                "delete from hub.sync_cursors where dataset_id = @Id", new { dataset.Id }, transaction, cancellationToken: cancellationToken));
            await EnsureTableAsync(connection, transaction, pending, [], dataset.Schema, registered.CurrentVersion, cancellationToken);
        }
        else
        {
            await EnsureTableAsync(connection, transaction, table, existing, dataset.Schema, registered.CurrentVersion, cancellationToken);
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.datasets (id, agency_code, agency_name, title, description, licence, classification, update_cycle,
                schedule, primary_key, schema_version, schema_json, config_revision, source_file, table_name, pending_table, registered_at, updated_at)
            values (@Id, @AgencyCode, @AgencyName, @Title, @Description, @Licence, @Classification, @UpdateCycle,
                @Schedule, @PrimaryKey, @SchemaVersion, @SchemaJson::jsonb, @ConfigRevision, @SourceFile, @Table, @Pending, @Now, @Now)
            on conflict (id) do update set
                agency_code = excluded.agency_code, agency_name = excluded.agency_name, title = excluded.title,
                description = excluded.description, licence = excluded.licence, classification = excluded.classification,
                update_cycle = excluded.update_cycle, schedule = excluded.schedule, primary_key = excluded.primary_key,
                schema_version = excluded.schema_version, schema_json = excluded.schema_json,
                config_revision = excluded.config_revision, source_file = excluded.source_file, updated_at = excluded.updated_at,
                pending_table = excluded.pending_table, blocked_reason = null, withdrawn_reason = null
            where hub.datasets.config_revision is distinct from excluded.config_revision
               or hub.datasets.schema_json is distinct from excluded.schema_json
               or hub.datasets.pending_table is distinct from excluded.pending_table
               or hub.datasets.blocked_reason is not null
               or hub.datasets.withdrawn_reason is not null
            """,
            new
            {
                dataset.Id,
                dataset.AgencyCode,
                AgencyName = agency.Name,
                dataset.Title,
                dataset.Description,
                dataset.Licence,
                Classification = dataset.Classification.ToString().ToLowerInvariant(),
                UpdateCycle = FreshnessNames.Of(dataset.UpdateCycle),
                dataset.Schedule,
                PrimaryKey = dataset.PrimaryKey.ToArray(),
                SchemaVersion = dataset.Schema.Version,
                SchemaJson = dataset.Schema.Json,
                dataset.ConfigRevision,
                SourceFile = Path.GetFileName(dataset.SourceFile),
                Table = table,
                Pending = pending,
                Now = now,
            },
            transaction,
            cancellationToken: cancellationToken));
        // The cycle history (freshness obligations follow the cycle in force for each period).
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.dataset_cycles (dataset_id, update_cycle, effective_from)
            select @Id, @UpdateCycle, @Now
            where (select c.update_cycle from hub.dataset_cycles c where c.dataset_id = @Id order by c.effective_from desc limit 1)
                  is distinct from @UpdateCycle
            on conflict (dataset_id, effective_from) do update set update_cycle = excluded.update_cycle
            """,
            new { dataset.Id, UpdateCycle = FreshnessNames.Of(dataset.UpdateCycle), Now = now },
            transaction,
            cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);

        async Task BlockAsync(string reason)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "update hub.datasets set blocked_reason = @reason, updated_at = @now where id = @Id and blocked_reason is distinct from @reason",
                new { dataset.Id, reason, now }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            throw new BreakingSchemaChangeException(reason);
        }
    }

    /// <summary>
    /// Whether <paramref name="table"/> is a dataset's table, another dataset's pending table, or the table of a
    /// published version: its rows are, or will be, published (<paramref name="datasetId"/>'s own pending table, never
    /// published, does not count).
    /// </summary>
    private static Task<bool> TableInUseAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, string datasetId, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            """
            select exists (select 1 from hub.datasets where table_name = @table or (pending_table = @table and id <> @datasetId))
                or exists (select 1 from hub.versions where table_name = @table)
            """, new { table, datasetId }, transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// Withdraws a registered dataset from publication (its file classifies it secret): the public read APIs stop
    /// serving it and no run is accepted until a good registration. Returns false when it was not registered or was
    /// withdrawn already.
    /// </summary>
    public async Task<bool> WithdrawAsync(string datasetId, string reason, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "update hub.datasets set withdrawn_reason = @reason, updated_at = @now where id = @datasetId and withdrawn_reason is distinct from @reason",
            new { datasetId, reason, now = time.GetUtcNow() }, cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>
    /// True when no run of the dataset is under way and it has never been published or waits for its first version
    /// in a new table (a higher schema version with a breaking change).
    /// </summary>
    public async Task<bool> NeedsInitialSyncAsync(string datasetId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            """
            select not exists (select 1 from hub.runs where dataset_id = @datasetId and status = 'running')
               and (not exists (select 1 from hub.runs where dataset_id = @datasetId and status = 'succeeded')
                    or exists (select 1 from hub.datasets where id = @datasetId and pending_table is not null))
            """,
            new { datasetId }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// The columns of a table (<paramref name="qualifiedTable"/>, e.g. <see cref="QualifiedTable"/>), in table order,
    /// with its type; empty when there is no such table.
    /// </summary>
    public static async Task<IReadOnlyList<TableColumn>> TableColumnsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string qualifiedTable, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<TableColumn>(new CommandDefinition(
            """
            select attname as Name, format_type(atttypid, null) as Type from pg_attribute
            where attrelid = to_regclass(@qualifiedTable) and attnum > 0 and not attisdropped
            order by attnum
            """, new { qualifiedTable }, transaction, cancellationToken: cancellationToken))).AsList();

    /// <summary>The columns of an open data table with their types (system columns included); empty when there is no such table.</summary>
    private static async Task<Dictionary<string, string>> ColumnsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<(string Name, string Type)>(new CommandDefinition(
            """
            select column_name, format_type(a.atttypid, a.atttypmod)
            from information_schema.columns c
            join pg_attribute a on a.attrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass
                               and a.attname = c.column_name
            where c.table_schema = 'open_data' and c.table_name = @table
            """, new { table }, transaction, cancellationToken: cancellationToken))).ToDictionary(c => c.Name, c => c.Type);

    /// <summary>What the schema and primary key change that the table cannot follow by adding columns.</summary>
    private static List<string> Breaks(Dictionary<string, string> existing, DatasetSchema schema, string[] registeredKey, IReadOnlyList<string> primaryKey)
    {
        var breaks = new List<string>();
        var stored = Stored(schema).ToDictionary(c => c.Name, c => SqlType(c.Type), StringComparer.Ordinal);
        foreach (var (name, type) in stored)
        {
            if (existing.TryGetValue(name, out var current) && !SameType(current, type))
            {
                breaks.Add($"property '{name}' changes type from {current} to {type}");
            }
        }

        foreach (var name in existing.Keys.Where(n => !SystemColumns.Contains(n) && !stored.ContainsKey(n)).Order(StringComparer.Ordinal))
        {
            breaks.Add($"property '{name}' is no longer stored (removed, renamed or marked to be dropped)");
        }

        if (!registeredKey.SequenceEqual(primaryKey, StringComparer.Ordinal))
        {
            breaks.Add($"the primary key changes from [{string.Join(", ", registeredKey)}] to [{string.Join(", ", primaryKey)}]");
        }

        return breaks;
    }

    /// <summary>
    /// Creates the table when it has no columns yet, adds the columns of new properties (recording them as added after
    /// <paramref name="currentVersion"/>, for the audit digests of earlier versions), and its indexes.
    /// </summary>
    private static async Task EnsureTableAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string table, Dictionary<string, string> existing, DatasetSchema schema, long currentVersion, CancellationToken cancellationToken)
    {
        var qualified = QualifiedTable(table);
        if (existing.Count == 0)
        {
            var columns = string.Join(",\n    ", Stored(schema).Select(c => $"{Quote(c.Name)} {SqlType(c.Type)}"));
            await connection.ExecuteAsync(new CommandDefinition(
                $"""
                create table {qualified} (
                    {columns},
                    _key text collate "C" not null,
                    _hash text not null,
                    _version_from bigint not null,
                    _version_to bigint,
                    _run_id uuid not null,
                    _batch int not null
                );
                create unique index {Quote(table + "_current")} on {qualified} (_key) where _version_to is null;
                create index {Quote(table + "_history")} on {qualified} (_key, _version_from);
                """, transaction: transaction, cancellationToken: cancellationToken));
        }
        else
        {
            foreach (var column in Stored(schema).Where(c => !existing.ContainsKey(c.Name)))
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    $"""
                    alter table {qualified} add column {Quote(column.Name)} {SqlType(column.Type)};
                    insert into hub.added_columns (table_name, column_name, after_version) values (@table, @Name, @currentVersion)
                    on conflict (table_name, column_name) do update set after_version = excluded.after_version;
                    """, new { table, column.Name, currentVersion }, transaction, cancellationToken: cancellationToken));
            }
        }

        // What each version wrote and closed: change events, change feed and audit digests read by version. Current rows
        // (_version_to null) stay out of the second index: they are never looked up by it, and every insert would pay for them.
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            create index if not exists {Quote(table + "_from")} on {qualified} (_version_from);
            create index if not exists {Quote(table + "_to")} on {qualified} (_version_to) where _version_to is not null;
            """, transaction: transaction, cancellationToken: cancellationToken));
    }

    /// <summary>The columns the open data table holds: every property but those marked to be dropped as personal data.</summary>
    private static IEnumerable<SchemaColumn> Stored(DatasetSchema schema) => schema.Columns.Where(c => c.Personal != PersonalData.Drop);

    private static bool SameType(string stored, string wanted) =>
        stored == wanted || (stored, wanted) is ("timestamp with time zone", "timestamptz");
}

/// <summary>A column of a table and its type (<c>format_type</c>'s name). System columns (<c>_key</c>, <c>_version_from</c>…) start with <c>_</c>.</summary>
public sealed record TableColumn(string Name, string Type)
{
    public bool IsSystem => Name.StartsWith('_');
}
