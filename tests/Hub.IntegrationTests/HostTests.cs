using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Hub.Api.Datasets;
using Hub.Api.Runs;
using Hub.Worker.Catalog;
using Hub.Worker.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class HostTests(HubFixture hub)
{
    [Fact]
    public async Task A_broken_agency_file_is_reported_and_every_other_dataset_is_in_the_catalogue()
    {
        var catalog = hub.Worker.Services.GetRequiredService<HubCatalog>();

        Assert.All(catalog.Errors, e => Assert.EndsWith("zz-broken.yaml", e.File, StringComparison.Ordinal));
        var typo = Assert.Single(catalog.Errors, e => e.Message.Contains("unknown key 'titel'", StringComparison.Ordinal));
        Assert.Equal(7, typo.Line);
        var listed = await hub.Api.GetFromJsonAsync<List<DatasetSummary>>("/api/datasets");
        // Other tests seed datasets of their own agencies straight into the store (e.g. the freshness history).
        Assert.Equal(TestAgency.Datasets.Order(), listed!.Where(d => d.AgencyCode == "TEST").Select(d => d.Id).Order());
    }

    [Fact]
    public async Task Every_dataset_has_a_quartz_job_in_the_clustered_store()
    {
        var jobs = await hub.QueryScalarAsync<long>("select count(*) from quartz.qrtz_job_details where job_group = 'datasets'");
        var triggers = await hub.QueryScalarAsync<long>("select count(*) from quartz.qrtz_cron_triggers where time_zone_id = 'Asia/Ho_Chi_Minh'");
        Assert.Equal(TestAgency.Datasets.Length, jobs);
        Assert.Equal(TestAgency.Datasets.Length, triggers);
    }

    [Fact]
    public async Task Health_reports_postgresql_and_the_bus()
    {
        var response = await hub.Api.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        var checks = body.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("postgresql").GetProperty("status").GetString());
        Assert.Contains(checks.EnumerateObject(), c => c.Name.Contains("masstransit", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Metrics_are_served_in_prometheus_format()
    {
        await hub.Api.GetAsync("/api/datasets");

        var response = await hub.Api.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_endpoints()
    {
        var document = await hub.Api.GetStringAsync("/openapi/v1.json");

        Assert.Contains("\"/api/datasets/{id}/records\"", document, StringComparison.Ordinal);
        Assert.Contains("\"/api/runs/{id}\"", document, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrations_started_by_several_processes_at_once_apply_once()
    {
        var connectionString = await NewDatabaseAsync("hub_it_migrate_");
        var sources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(connectionString)).ToList();
        try
        {
            await Task.WhenAll(sources.Select(s => new Migrator(s, NullLogger<Migrator>.Instance, TimeProvider.System).MigrateAsync(CancellationToken.None)));

            await using var connection = await sources[0].OpenConnectionAsync();
            await using var count = new NpgsqlCommand("select count(*), count(distinct version) from hub.schema_migrations", connection);
            await using var reader = await count.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.Equal(Migrator.Migrations.Count, reader.GetInt64(0));
            Assert.Equal(reader.GetInt64(0), reader.GetInt64(1));
        }
        finally
        {
            foreach (var source in sources)
            {
                await source.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Keys_sort_in_byte_order_in_new_tables_and_in_tables_made_before_migration_17()
    {
        await using var source = NpgsqlDataSource.Create(await NewDatabaseAsync("hub_it_keys_"));
        await using (var legacy = source.CreateCommand(
            """
            create schema open_data;
            create table open_data.it_legacy (ten text, _key text not null, _hash text not null, _version_from bigint not null,
                _version_to bigint, _run_id uuid not null, _batch int not null);
            create unique index it_legacy_current on open_data.it_legacy (_key) where _version_to is null;
            create index it_legacy_history on open_data.it_legacy (_key, _version_from);
            insert into open_data.it_legacy
            select k, k, 'h', 1, null, '6f1c1c3e-0000-4000-8000-000000000001', 0 from unnest(array['é', 'b', 'B', 'a']) k;
            """))
        {
            await legacy.ExecuteNonQueryAsync();
        }

        await new Migrator(source, NullLogger<Migrator>.Instance, TimeProvider.System).MigrateAsync(CancellationToken.None);

        await using var connection = await source.OpenConnectionAsync();
        Assert.Equal("C", await connection.ExecuteScalarAsync<string?>(
            "select collation_name from information_schema.columns where table_schema = 'open_data' and table_name = 'it_legacy' and column_name = '_key'"));
        Assert.Equal(["B", "a", "b", "é"], await connection.QueryAsync<string>("select _key from open_data.it_legacy where _version_to is null order by _key"));
        Assert.Equal(["it_legacy_current", "it_legacy_history"], await connection.QueryAsync<string>(
            "select indexname from pg_indexes where schemaname = 'open_data' and tablename = 'it_legacy' order by indexname"));

        // A table the hub makes now.
        TestAgency.Serve(hub.Agency, "it-key-order", Enumerable.Range(1, 3).Select(i => (object)TestAgency.Ward(i)).ToList());
        Assert.Equal("succeeded", (await hub.SyncAsync("it-key-order")).Status);
        Assert.Equal("C", await hub.QueryScalarAsync<string>(
            """
            select c.collation_name from information_schema.columns c join hub.datasets d on d.table_name = c.table_name
            where d.id = 'it-key-order' and c.table_schema = 'open_data' and c.column_name = '_key'
            """));
    }

    /// <summary>Creates an empty database on the tests' server and returns its connection string.</summary>
    private async Task<string> NewDatabaseAsync(string prefix)
    {
        var database = prefix + Guid.NewGuid().ToString("N")[..8];
        await using var admin = new NpgsqlConnection(hub.ConnectionString);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"create database {database}", admin);
        await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(hub.ConnectionString) { Database = database }.ConnectionString;
    }

    [Fact]
    public async Task Runs_can_be_listed_per_dataset()
    {
        TestAgency.Serve(hub.Agency, "it-listed", Enumerable.Range(1, 3).Select(i => (object)TestAgency.Ward(i)).ToList());
        var run = await hub.SyncAsync("it-listed");

        var runs = await hub.Api.GetFromJsonAsync<List<RunSummary>>("/api/runs?dataset=it-listed");

        Assert.Contains(runs!, r => r.Id == run.Id);
        Assert.All(runs!, r => Assert.Equal("it-listed", r.DatasetId));
    }
}
