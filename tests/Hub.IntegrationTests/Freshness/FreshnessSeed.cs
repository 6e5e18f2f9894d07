using System.Globalization;
using Dapper;
using Npgsql;

namespace Hub.IntegrationTests.Freshness;

/// <summary>Writes a fake history straight into the store: datasets, their cycles, runs and published versions.</summary>
internal sealed class FreshnessSeed(string connectionString)
{
    /// <summary>"2026-07-10 08:00" read as Vietnam time.</summary>
    public static DateTimeOffset Vn(string local) =>
        DateTimeOffset.ParseExact(local + " +07:00", "yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture).ToUniversalTime();

    public async Task DatasetAsync(string id, string agency, string cycle, string registered, string schemaJson = """{"type":"object","properties":{}}""")
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.ExecuteAsync(
            """
            insert into hub.datasets (id, agency_code, agency_name, title, licence, classification, update_cycle, schedule, primary_key,
                schema_version, schema_json, config_revision, source_file, table_name, registered_at, updated_at)
            values (@id, @agency, 'Sở ' || @agency, 'Bộ dữ liệu ' || @id, 'CC-BY-4.0', 'public', @cycle, '0 0 2 * * ?', array['ma'],
                1, @schemaJson::jsonb, 'seed', 'seed.yaml', replace(@id, '-', '_'), @at, @at);
            insert into hub.dataset_cycles (dataset_id, update_cycle, effective_from) values (@id, @cycle, @at);
            """,
            new { id, agency, cycle, schemaJson, at = Vn(registered) });
    }

    /// <summary>A succeeded run finished at <paramref name="at"/>; with <paramref name="version"/> it published that version.</summary>
    public async Task<Guid> RunAsync(string dataset, string at, long valid, long quarantined, long? version = null, long inserted = 0, long updated = 0)
    {
        var id = Guid.NewGuid();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.ExecuteAsync(
            """
            insert into hub.runs (id, dataset_id, trigger, status, started_at, finished_at, fetched, valid, quarantined, inserted, updated,
                unchanged, version, config_revision, schema_version)
            values (@id, @dataset, 'schedule', 'succeeded', @at, @at, @valid + @quarantined, @valid, @quarantined, @inserted, @updated,
                @valid - @inserted - @updated, @version, 'seed', 1);
            insert into hub.versions (dataset_id, version, run_id, published_at, inserted, updated, deleted, row_count, events_sent_at)
            select @dataset, @version, @id, @at, @inserted, @updated, 0, @valid, @at where @version is not null;
            """,
            new { id, dataset, at = Vn(at), valid, quarantined, version, inserted, updated });
        return id;
    }

    public async Task ExecuteAsync(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.ExecuteAsync(sql, parameters);
    }
}
