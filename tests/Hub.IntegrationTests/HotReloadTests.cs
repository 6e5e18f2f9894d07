using System.Net;
using System.Net.Http.Json;
using Hub.Api.Connectors;
using Hub.Worker.Catalog;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class HotReloadTests(HubFixture hub)
{
    private static string AgencyFile(string schedule, string title = "Xã phường (nạp nóng)") =>
        $"""
        version: 1
        agency:
          code: HOT
          name: Cơ quan nạp nóng
        datasets:
          - id: it-hot
            title: {title}
            licence: CC-BY-4.0
            update_cycle: monthly
            schedule: "{schedule}"
            schema: schemas/ward.v1.json
            primary_key: ma_xa
            source:
              kind: rest
              url: "http://127.0.0.1:9/it-hot"
              record_path: $.data
        """;

    private Task<ConnectorStatus?> StatusAsync() => StatusOfAsync("it-hot");

    private async Task<ConnectorStatus?> StatusOfAsync(string datasetId) =>
        (await hub.Api.GetFromJsonAsync<List<ConnectorStatus>>("/api/connectors"))!.SingleOrDefault(c => c.DatasetId == datasetId);

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"{what}: still {value} after 30 s");
            }

            await Task.Delay(200);
        }
    }

    private int ScheduledLines(string dataset) => hub.Logs.Lines.Count(l => l.StartsWith($"Scheduled {dataset} with cron", StringComparison.Ordinal));

    [Fact]
    public async Task A_changed_file_is_picked_up_without_restart_and_a_broken_edit_keeps_the_last_good_version()
    {
        var file = Path.Combine(hub.ConnectorsPath, "hot-agency.yaml");
        var wardsScheduled = ScheduledLines("it-wards");
        try
        {
            // A new file: its dataset is registered and scheduled.
            await File.WriteAllTextAsync(file, AgencyFile("0 0 3 1 1 ? 2099"));
            var added = await EventuallyAsync(StatusAsync, s => s is { State: "normal" }, "it-hot scheduled");
            Assert.Equal(new DateTimeOffset(2099, 1, 1, 3, 0, 0, TimeSpan.FromHours(7)), added!.NextRunAt);

            // An edit: only that file's dataset is scheduled again.
            await File.WriteAllTextAsync(file, AgencyFile("0 0 4 1 1 ? 2099"));
            // (hub.datasets is updated before the trigger is replaced: wait for the trigger.)
            var four = new DateTimeOffset(2099, 1, 1, 4, 0, 0, TimeSpan.FromHours(7));
            var edited = await EventuallyAsync(StatusAsync, s => s?.NextRunAt == four, "it-hot rescheduled");
            Assert.Equal("0 0 4 1 1 ? 2099", edited!.Schedule);
            Assert.Equal(wardsScheduled, ScheduledLines("it-wards"));

            // A broken edit: the last good version keeps running and the error is shown.
            await File.WriteAllTextAsync(file, AgencyFile("0 0 5 1 1 ? 2099").Replace("    title:", "    titel:", StringComparison.Ordinal));
            var broken = await EventuallyAsync(StatusAsync, s => s?.ConfigError is not null, "configError shown");
            Assert.Contains("unknown key 'titel'", broken!.ConfigError, StringComparison.Ordinal);
            Assert.Contains("hot-agency.yaml", broken.ConfigError, StringComparison.Ordinal);
            Assert.Equal(("normal", "0 0 4 1 1 ? 2099"), (broken.State, broken.Schedule));
            Assert.NotNull(hub.Worker.Services.GetRequiredService<HubCatalog>().Find("it-hot"));
            Assert.Contains(hub.Logs.Lines, l => l.Contains("hot-agency.yaml", StringComparison.Ordinal) && l.Contains("titel", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }

        // The file removed: its dataset is unscheduled; the catalogue's errors are the fixture's again.
        var removed = await EventuallyAsync(StatusAsync, s => s is { State: "unscheduled", ConfigError: null }, "it-hot unscheduled");
        Assert.Null(removed!.ConfigError);
        await EventuallyAsync(() => Task.FromResult(hub.Worker.Services.GetRequiredService<HubCatalog>().Find("it-hot")), e => e is null, "it-hot out of the worker's catalogue");
        Assert.Equal(wardsScheduled, ScheduledLines("it-wards"));
        Assert.Equal(HttpStatusCode.NotFound, (await hub.OperatorApi.PostAsync("/api/connectors/it-hot/backfill?from=1", null)).StatusCode);
    }

    [Fact]
    public async Task A_dataset_reclassified_secret_is_unscheduled_and_withdrawn_from_the_read_apis()
    {
        using var agency = new OwnAgency(hub, "it-secret");
        TestAgency.Serve(hub.Agency, "it-secret", Enumerable.Range(1, 5).Select(i => (object)TestAgency.Ward(i, " mật")).ToList());
        agency.Write(TestAgency.WardSchema);
        await agency.RegisteredAsync(1, "dan_so");
        Assert.Equal(1L, (await hub.SyncAsync("it-secret")).Version);
        Assert.Equal(HttpStatusCode.OK, (await hub.Api.GetAsync("/api/datasets/it-secret/records")).StatusCode);

        // The running dataset's file now classifies it secret: it is not kept as "the last good version".
        agency.Write(TestAgency.WardSchema, classification: "secret");
        await agency.UntilAsync("select withdrawn_reason is not null from hub.datasets where id = @id", "withdrawal");

        var status = (await hub.Api.GetFromJsonAsync<List<ConnectorStatus>>("/api/connectors"))!.Single(c => c.DatasetId == "it-secret");
        Assert.Equal("unscheduled", status.State);
        Assert.Contains("classified secret", status.WithdrawnReason, StringComparison.Ordinal);
        Assert.Contains("Art. 1.2", status.WithdrawnReason, StringComparison.Ordinal);
        Assert.Null(hub.Worker.Services.GetRequiredService<HubCatalog>().Find("it-secret"));
        var catalogue = await hub.Api.GetStringAsync("/api/datasets");
        Assert.DoesNotContain("it-secret", catalogue, StringComparison.Ordinal);
        foreach (var path in new[] { "/api/datasets/it-secret", "/api/datasets/it-secret/records", "/api/datasets/it-secret/records?version=1", "/api/datasets/it-secret/versions", "/api/datasets/it-secret/changes?since=0", "/api/datasets/it-secret/export?format=csv", "/api/lineage/it-secret/1" })
        {
            using var response = await hub.Api.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.UnavailableForLegalReasons, $"{path}: {response.StatusCode} {body}");
            Assert.Contains("classified secret", body, StringComparison.Ordinal);
            Assert.DoesNotContain(" mật", body, StringComparison.Ordinal);
        }

        // Classified public again: registered and served again.
        agency.Write(TestAgency.WardSchema);
        await agency.UntilAsync("select withdrawn_reason is null from hub.datasets where id = @id", "publication again");
        await EventuallyAsync(() => StatusOfAsync("it-secret"), s => s is { State: "normal", WithdrawnReason: null }, "it-secret scheduled again");
        Assert.Equal(HttpStatusCode.OK, (await hub.Api.GetAsync("/api/datasets/it-secret/records")).StatusCode);
    }
}
