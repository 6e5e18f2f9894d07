using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dapper;
using Hub.Api.Runs;
using Hub.Worker;
using Hub.Connectors;
using Hub.Worker.Access;
using Hub.Worker.Catalog;
using Hub.Worker.Scheduling;
using Hub.Worker.Store;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using WireMock.Server;

namespace Hub.IntegrationTests;

/// <summary>
/// The whole hub on real services: a fresh PostgreSQL database on the server in <c>HUB_TEST_POSTGRES</c>, the
/// RabbitMQ broker in <c>HUB_TEST_RABBITMQ</c> (both started by <c>./hub test</c>), a WireMock agency, the worker
/// host and the API. Tests use distinct dataset ids, so they share one hub.
/// </summary>
public sealed class HubFixture : IAsyncLifetime
{
    private readonly List<HttpClient> clients = [];
    private WebApplicationFactory<Program>? api;

    public WireMockServer Agency { get; } = WireMockServer.Start();

    public string ConnectorsPath { get; } = Directory.CreateTempSubdirectory("it-connectors-").FullName;

    public string ConnectionString { get; private set; } = string.Empty;

    public IHost Worker { get; private set; } = null!;

    /// <summary>The API without a key: what anyone may read.</summary>
    public HttpClient Api { get; private set; } = null!;

    /// <summary>The API with <see cref="OperatorKey"/>: connector actions, replays, waivers and (as operators may) raw data.</summary>
    public HttpClient OperatorApi { get; private set; } = null!;

    public IssuedKey OperatorKey { get; private set; } = null!;

    public IServiceProvider ApiServices => api!.Services;

    public Dictionary<string, string?> Settings { get; } = new();

    /// <summary>Every log line the worker and the API wrote, with exception messages.</summary>
    public CollectingLoggerProvider Logs { get; } = new();

    public static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: the integration tests need a real PostgreSQL and RabbitMQ; run them with './hub test', which starts both");

    public async Task InitializeAsync()
    {
        ConnectionString = await CreateDatabaseAsync(Required("HUB_TEST_POSTGRES"));
        TestAgency.WriteConnectors(ConnectorsPath, Agency.Url!);
        Settings["ConnectionStrings:Hub"] = ConnectionString;
        Settings["ConnectionStrings:RabbitMq"] = Required("HUB_TEST_RABBITMQ");
        Settings["Connectors:Path"] = ConnectorsPath;
        Settings["Connectors:RetryDelay"] = "00:00:00.020";
        // Tests of failing agencies share the agency TEST: its circuit must not open on the runs of the tests after them.
        Settings["Connectors:CircuitMinimumThroughput"] = "10000";
        Settings["Connectors:BatchSize"] = "7";
        Settings["Connectors:ReloadInterval"] = "00:00:00.300";
        Settings["Scheduling:SyncNewDatasetsAtStart"] = "false";
        Settings["Scheduling:ClusterCheckinInterval"] = "00:00:05";
        Settings["Privacy:HashKey"] = "integration-test-key-0123456789abcdef0123";
        Settings["Messaging:QueuePrefix"] = "it-" + Guid.NewGuid().ToString("N")[..8];

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(Settings);
        builder.Services.AddHubWorker(builder.Configuration);
        builder.Logging.AddProvider(Logs);
        Worker = builder.Build();
        await Worker.StartAsync();

        api = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (key, value) in Settings)
            {
                web.UseSetting(key, value);
            }

            web.ConfigureLogging(logging => logging.AddProvider(Logs));
        });
        Api = api.CreateClient();
        OperatorKey = await IssueKeyAsync("it-operator", KeyRoles.Operator);
        OperatorApi = ApiWithKey(OperatorKey.Key);
    }

    public Task<IssuedKey> IssueKeyAsync(string holder, string role) =>
        ApiServices.GetRequiredService<ApiKeys>().IssueAsync(holder, role, CancellationToken.None);

    /// <summary>A client of the API that sends <paramref name="key"/> as <c>Authorization: Bearer</c>; the fixture disposes it.</summary>
    public HttpClient ApiWithKey(string key)
    {
        var client = api!.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        clients.Add(client);
        return client;
    }

    public async Task DisposeAsync()
    {
        Api.Dispose();
        clients.ForEach(c => c.Dispose());
        if (api is not null)
        {
            await api.DisposeAsync();
        }

        await Worker.StopAsync();
        Worker.Dispose();
        Agency.Stop();
        Agency.Dispose();
        Directory.Delete(ConnectorsPath, recursive: true);
    }

    /// <summary>Runs a dataset's connector now and waits (bounded) until the writer has finished the run.</summary>
    public async Task<RunSummary> SyncAsync(string datasetId)
    {
        var runId = await Worker.Services.GetRequiredService<DatasetSync>().RunAsync(datasetId, RunTrigger.Manual, CancellationToken.None);
        return await WaitForRunAsync(runId);
    }

    public async Task<RunSummary> WaitForRunAsync(Guid runId)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var detail = await OperatorApi.GetFromJsonAsync<RunDetail>($"/api/runs/{runId}");
            if (detail!.Run.Status != "running")
            {
                return detail.Run;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"run {runId} was still running after 60 s: {detail.Run}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Waits (bounded) until the dataset's newest run, other than <paramref name="previous"/>, has ended: a run started
    /// through the API (<c>POST /api/connectors/{dataset}/run</c>), whose id the caller does not know.
    /// </summary>
    public async Task<RunSummary> WaitForLatestRunAsync(string datasetId, Guid? previous = null)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var run = (await Api.GetFromJsonAsync<List<RunSummary>>($"/api/runs?dataset={datasetId}"))!.FirstOrDefault();
            if (run is { Status: not "running" } && run.Id != previous)
            {
                return run;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"no run of {datasetId} ended within 60 s: {run}");
            }

            await Task.Delay(100);
        }
    }

    public async Task<T> QueryScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return await connection.ExecuteScalarAsync<T>(sql, parameters) ?? throw new InvalidOperationException($"no value from {sql}");
    }

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return [.. await connection.QueryAsync<T>(sql, parameters)];
    }

    /// <summary>How many records a run has staged: the rows of its staging table, 0 when it has none (not yet, or no more).</summary>
    public async Task<long> StagedCountAsync(Guid runId) =>
        await QueryScalarAsync<bool>("select to_regclass(@table) is not null", new { table = StagingTable.Of(runId) })
            ? await QueryScalarAsync<long>($"select count(*) from {StagingTable.Of(runId)}")
            : 0;

    /// <summary>
    /// Runs <paramref name="action"/> with a catalogue whose ward schema accepts a negative population (the "fix" of a
    /// quarantine replay), registered in the store as after a restart; registers the worker's own schema of
    /// <paramref name="datasetId"/> again afterwards, for the other tests of that dataset.
    /// </summary>
    public async Task WithFixedWardSchemaAsync(string datasetId, Func<HubCatalog, Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var fixedFolder = Directory.CreateTempSubdirectory("it-fixed-").FullName;
        var registry = Worker.Services.GetRequiredService<DatasetRegistry>();
        try
        {
            TestAgency.WriteConnectors(fixedFolder, Agency.Url!);
            File.WriteAllText(Path.Combine(fixedFolder, "schemas", "ward.v1.json"), TestAgency.WardSchema.Replace("\"minimum\": 0", "\"minimum\": -100", StringComparison.Ordinal));
            var fixedCatalog = new HubCatalog(Options.Create(new ConnectorOptions { Path = fixedFolder }), Worker.Services.GetRequiredService<IOptions<PrivacyOptions>>(), NullLogger<HubCatalog>.Instance);
            var fixedEntry = fixedCatalog.Find(datasetId)!;
            await registry.RegisterAsync(fixedEntry.Agency, fixedEntry.Dataset, CancellationToken.None);
            await action(fixedCatalog);
        }
        finally
        {
            var original = Worker.Services.GetRequiredService<HubCatalog>().Find(datasetId)!;
            await registry.RegisterAsync(original.Agency, original.Dataset, CancellationToken.None);
            Directory.Delete(fixedFolder, recursive: true);
        }
    }

    internal static async Task<string> CreateDatabaseAsync(string serverConnectionString)
    {
        var name = "hub_it_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(serverConnectionString))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"create database {name}"));
        }

        return new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
    }
}

[CollectionDefinition(Name)]
public sealed class HubTestGroup : ICollectionFixture<HubFixture>
{
    public const string Name = "hub";
}
