using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Hub.Worker;
using Hub.Worker.Scheduling;
using Hub.Worker.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Quartz;
using WireMock.Server;

namespace Hub.IntegrationTests;

/// <summary>Exactly-once effect end to end: a page the agency fails once and the connector retries; a worker process killed mid-run.</summary>
[Collection(HubTestGroup.Name)]
public sealed class ExactlyOnceTests(HubFixture hub)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_page_the_agency_fails_once_is_retried_and_its_records_are_stored_once()
    {
        var wards = Enumerable.Range(1, 120).Select(i => (object)TestAgency.Ward(i)).ToList();
        TestAgency.ServeFailingOnce(hub.Agency, "it-retry", wards, offset: TestAgency.PageSize, status: 503);

        var run = await hub.SyncAsync("it-retry");

        var secondPage = hub.Agency.LogEntries.Where(e => e.RequestMessage.Path == "/it-retry" && e.RequestMessage.Query!["offset"].Contains("50")).ToList();
        Assert.Equal(2, secondPage.Count);
        Assert.Equal(503, Convert.ToInt32(secondPage[0].ResponseMessage.StatusCode, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(("succeeded", 120L, 120L, 120L, 0L, 0L, 1L), (run.Status, run.Fetched!.Value, run.Valid, run.Inserted, run.Updated, run.Duplicates, run.Version!.Value));
        Assert.Equal(120L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_retry"));
        Assert.Equal(120L, await hub.QueryScalarAsync<long>("select count(distinct _key) from open_data.it_retry where _version_to is null"));
        Assert.Equal(1L, await hub.QueryScalarAsync<long>("select count(*) from hub.run_requests where run_id = @Id and url like '%offset=50%' and status_code = 200", new { run.Id }));
        Assert.Equal(1L, await hub.QueryScalarAsync<long>("select count(*) from hub.versions where dataset_id = 'it-retry'"));
    }

    [Fact]
    public async Task A_worker_killed_mid_run_is_recovered_by_another_with_one_publication_and_no_duplicate_row()
    {
        var connectionString = await HubFixture.CreateDatabaseAsync(HubFixture.Required("HUB_TEST_POSTGRES"));
        using var agency = WireMockServer.Start();
        var connectors = Directory.CreateTempSubdirectory("it-killed-").FullName;
        TestAgency.WriteConnectors(connectors, agency.Url!);
        var wards = Enumerable.Range(1, 300).Select(i => (object)TestAgency.Ward(i)).ToList();
        // The third page hangs: the first worker has staged the first two pages' batches when it is killed.
        TestAgency.ServeSlowPage(agency, "it-wards", wards, offset: 2 * TestAgency.PageSize, TimeSpan.FromMinutes(10));
        var settings = new Dictionary<string, string?>(hub.Settings)
        {
            ["ConnectionStrings:Hub"] = connectionString,
            ["Connectors:Path"] = connectors,
            ["Messaging:QueuePrefix"] = "it-k" + Guid.NewGuid().ToString("N")[..8],
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        await using var connection = new NpgsqlConnection(connectionString);
        try
        {
            var output = new ConcurrentQueue<string>();
            Guid dead;
            using (var first = StartWorkerProcess(settings, output))
            {
                try
                {
                    await WaitAsync(async () => (first.HasExited ? throw new InvalidOperationException($"the first worker exited:\n{string.Join('\n', output)}") : true) && await connection.ExecuteScalarAsync<bool>("select to_regclass('quartz.qrtz_job_details') is not null")
                        && await connection.ExecuteScalarAsync<bool>("select exists (select 1 from quartz.qrtz_job_details where job_name = 'it-wards')"), "the first worker scheduled its jobs", output);
                    await using (var client = new ServiceCollection().AddLogging().AddHubStore(configuration).AddSchedulerClient(configuration).BuildServiceProvider())
                    {
                        var scheduler = await client.GetRequiredService<ISchedulerFactory>().GetScheduler();
                        await scheduler.TriggerJob(SyncDatasetJob.KeyFor("it-wards"), new JobDataMap { [SyncDatasetJob.TriggerKey] = "manual" });
                    }

                    await WaitAsync(async () => await connection.ExecuteScalarAsync<long>(
                        "select count(*) from hub.run_batches b join hub.runs r on r.id = b.run_id where r.dataset_id = 'it-wards'") >= 3, "the first worker staged batches", output);
                }
                finally
                {
                    first.Kill(entireProcessTree: true);
                    await first.WaitForExitAsync();
                }
            }

            dead = await connection.ExecuteScalarAsync<Guid>("select id from hub.runs where dataset_id = 'it-wards'");
            Assert.Equal("running", await connection.ExecuteScalarAsync<string>("select status from hub.runs where id = @dead", new { dead }));
            Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from hub.versions"));
            TestAgency.Serve(agency, "it-wards", wards);

            // A new worker on the same store: Quartz finds the dead instance and runs its job again (the job requests recovery).
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.AddHubWorker(builder.Configuration);
            using var second = builder.Build();
            await second.StartAsync();
            try
            {
                await WaitAsync(async () => await connection.ExecuteScalarAsync<bool>(
                    "select exists (select 1 from hub.runs where dataset_id = 'it-wards' and id <> @dead and status <> 'running')", new { dead }), "the recovered run ended", output);
                var rerun = await connection.QuerySingleAsync<(string Status, long Inserted, long Updated, long Version)>(
                    "select status, inserted, updated, version from hub.runs where dataset_id = 'it-wards' and id <> @dead", new { dead });
                Assert.Equal(("succeeded", 300L, 0L, 1L), rerun);

                // The dead run is failed by housekeeping once it has made no progress for Store:AbandonRunAfter; nothing it staged is published.
                var later = new FakeTimeProvider(TimeProvider.System.GetUtcNow().AddMinutes(31));
                var housekeeping = new Housekeeping(second.Services.GetRequiredService<NpgsqlDataSource>(), Options.Create(new StoreOptions()), later, NullLogger<Housekeeping>.Instance);
                Assert.Equal(1, (await housekeeping.RunAsync(CancellationToken.None)).AbandonedRuns);
                Assert.Equal("failed", await connection.ExecuteScalarAsync<string>("select status from hub.runs where id = @dead", new { dead }));
                Assert.Null(await connection.ExecuteScalarAsync<string?>("select to_regclass(@table)::text", new { table = StagingTable.Of(dead) }));
                Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("select count(*) from hub.versions where dataset_id = 'it-wards'"));
                Assert.Equal((300L, 300L), await connection.QuerySingleAsync<(long, long)>("select count(*), count(distinct _key) from open_data.it_wards"));
                var audit = await second.Services.GetRequiredService<AuditChain>().VerifyAsync(CancellationToken.None);
                Assert.True(audit.Intact, audit.FirstBroken);
            }
            finally
            {
                await second.StopAsync();
            }
        }
        finally
        {
            agency.Stop();
            Directory.Delete(connectors, recursive: true);
        }
    }

    /// <summary>
    /// The real worker binary (from its own build output, with its own runtime configuration) in a process of its own,
    /// so that it can be killed without running any of its code.
    /// </summary>
    private static Process StartWorkerProcess(Dictionary<string, string?> settings, ConcurrentQueue<string> output)
    {
        // tests/Hub.IntegrationTests/bin/<configuration>/<framework>/ -> Hub.Worker/bin/<configuration>/<framework>/Hub.Worker.dll
        var framework = new DirectoryInfo(AppContext.BaseDirectory);
        var root = framework.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var worker = Path.Combine(root, "Hub.Worker", "bin", framework.Parent.Name, framework.Name, "Hub.Worker.dll");
        Assert.True(File.Exists(worker), $"{worker} not found: build the solution first");
        var start = new ProcessStartInfo("dotnet", [worker])
        {
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => output.Enqueue(e.Data ?? string.Empty);
        process.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? string.Empty);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitAsync(Func<Task<bool>> done, string what, ConcurrentQueue<string> output)
    {
        var waited = Stopwatch.StartNew();
        while (!await done())
        {
            if (waited.Elapsed > Patience)
            {
                throw new TimeoutException($"waited {Patience.TotalSeconds} s for: {what}; first worker's output:\n{string.Join('\n', output.TakeLast(40))}");
            }

            await Task.Delay(200);
        }
    }
}
