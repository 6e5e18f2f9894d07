using Dapper;
using Hub.Core.Catalog;
using Hub.Core.Freshness;
using Npgsql;

namespace Hub.Worker.Store;

/// <summary>A schema change the store cannot apply by itself (a column changed type).</summary>
public sealed class BreakingSchemaChangeException(string message) : Exception(message);

/// <summary>
/// Keeps <c>hub.datasets</c> in step with the catalogue and each dataset's typed table in <c>open_data</c>
/// in step with its JSON Schema. Additive changes (new properties) apply themselves; a changed type does not.
/// </summary>
public sealed class DatasetRegistry(NpgsqlDataSource dataSource, TimeProvider time)
{
    /// <summary>System columns of every dataset table; schema properties may not start with '_'.</summary>
    public static readonly IReadOnlyList<string> SystemColumns = ["_key", "_hash", "_version_from", "_version_to", "_run_id", "_batch"];

    public static string TableName(string datasetId) => datasetId.Replace('-', '_');

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

    public async Task RegisterAsync(AgencyDefinition agency, DatasetDefinition dataset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agency);
        ArgumentNullException.ThrowIfNull(dataset);
        var table = TableName(dataset.Id);
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('dataset:' || @Id))", new { dataset.Id }, transaction, cancellationToken: cancellationToken));
        await EnsureTableAsync(connection, transaction, table, dataset.Schema, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.datasets (id, agency_code, agency_name, title, description, licence, classification, update_cycle,
                schedule, primary_key, schema_version, schema_json, config_revision, source_file, table_name, registered_at, updated_at)
            values (@Id, @AgencyCode, @AgencyName, @Title, @Description, @Licence, @Classification, @UpdateCycle,
                @Schedule, @PrimaryKey, @SchemaVersion, @SchemaJson::jsonb, @ConfigRevision, @SourceFile, @Table, @Now, @Now)
            on conflict (id) do update set
                agency_code = excluded.agency_code, agency_name = excluded.agency_name, title = excluded.title,
                description = excluded.description, licence = excluded.licence, classification = excluded.classification,
                update_cycle = excluded.update_cycle, schedule = excluded.schedule, primary_key = excluded.primary_key,
                schema_version = excluded.schema_version, schema_json = excluded.schema_json,
                config_revision = excluded.config_revision, source_file = excluded.source_file, updated_at = excluded.updated_at
            where hub.datasets.config_revision is distinct from excluded.config_revision
               or hub.datasets.schema_json is distinct from excluded.schema_json
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
    }

    /// <summary>True when the dataset has never been published and no run of it is under way.</summary>
    public async Task<bool> NeedsInitialSyncAsync(string datasetId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select not exists (select 1 from hub.runs where dataset_id = @datasetId and status in ('running', 'succeeded'))",
            new { datasetId }, cancellationToken: cancellationToken));
    }

    private static async Task EnsureTableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, DatasetSchema schema, CancellationToken cancellationToken)
    {
        var existing = (await connection.QueryAsync<(string Name, string Type)>(new CommandDefinition(
            """
            select column_name, format_type(a.atttypid, a.atttypmod)
            from information_schema.columns c
            join pg_attribute a on a.attrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass
                               and a.attname = c.column_name
            where c.table_schema = 'open_data' and c.table_name = @table
            """, new { table }, transaction, cancellationToken: cancellationToken))).ToDictionary(c => c.Name, c => c.Type);
        var qualified = QualifiedTable(table);
        if (existing.Count == 0)
        {
            var columns = string.Join(",\n    ", Stored(schema).Select(c => $"{Quote(c.Name)} {SqlType(c.Type)}"));
            await connection.ExecuteAsync(new CommandDefinition(
                $"""
                create table {qualified} (
                    {columns},
                    _key text not null,
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

        // What each version wrote and closed: change events, change feed and audit digests read by version.
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            create index if not exists {Quote(table + "_from")} on {qualified} (_version_from);
            create index if not exists {Quote(table + "_to")} on {qualified} (_version_to);
            """, transaction: transaction, cancellationToken: cancellationToken));
        if (existing.Count == 0)
        {
            return;
        }

        foreach (var column in Stored(schema))
        {
            var type = SqlType(column.Type);
            if (!existing.TryGetValue(column.Name, out var current))
            {
                await connection.ExecuteAsync(new CommandDefinition($"alter table {qualified} add column {Quote(column.Name)} {type}", transaction: transaction, cancellationToken: cancellationToken));
            }
            else if (!SameType(current, type))
            {
                throw new BreakingSchemaChangeException(
                    $"column '{column.Name}' of {qualified} is {current} but schema version {schema.Version} makes it {type}; declare a new schema version and migrate the table");
            }
        }
    }

    /// <summary>The columns the open data table holds: every property but those marked to be dropped as personal data.</summary>
    private static IEnumerable<SchemaColumn> Stored(DatasetSchema schema) => schema.Columns.Where(c => c.Personal != PersonalData.Drop);

    private static bool SameType(string stored, string wanted) =>
        stored == wanted || (stored, wanted) is ("timestamp with time zone", "timestamptz");
}
