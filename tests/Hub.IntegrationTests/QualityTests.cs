using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Api.Datasets;
using Hub.Worker.Store;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class QualityTests(HubFixture hub)
{
    [Fact]
    public async Task Each_run_reports_correct_complete_and_clean_figures()
    {
        TestAgency.Serve(hub.Agency, "it-quality-xa", Enumerable.Range(1, 5).Select(i => (object)TestAgency.Ward(i)).ToList());
        await hub.SyncAsync("it-quality-xa");
        TestAgency.Serve(hub.Agency, "it-quality", [
            new { ma_ho = "H1", ten = "Hộ Nguyễn", ma_xa = "22001" },
            new { ma_ho = "H2", ten = "  ", ma_xa = "22002" },
            new { ma_ho = "H3", ten = " Hộ Trần ", ma_xa = "22099" },
            new { ma_ho = "H4", ten = "Hộ Lê", ma_xa = "22098" },
            new { ma_ho = "H5", ten = "Hộ Phạm" },
            new { ma_ho = "H5", ten = "Hộ Phạm (lặp)", ma_xa = "22005" },
            new { ten = "Không mã hộ" },
        ]);

        var first = await hub.SyncAsync("it-quality");

        Assert.Equal((7L, 6L, 1L, 1L, 5L), (first.Fetched!.Value, first.Valid, first.Quarantined, first.Duplicates, first.Inserted));
        // A key given twice in a first version keeps its last record.
        Assert.Equal("Hộ Phạm (lặp)", await hub.QueryScalarAsync<string>("select ten from open_data.it_quality where _key = 'H5' and _version_to is null"));
        // Its rows digest is of the rows loaded, not of the records staged (both of H5's).
        var audit = await hub.Worker.Services.GetRequiredService<AuditChain>().VerifyAsync(CancellationToken.None);
        Assert.True(audit.Intact, audit.FirstBroken);
        TestAgency.Serve(hub.Agency, "it-quality", [new { ma_ho = "H1", ten = "Hộ Nguyễn", ma_xa = "22001" }]);
        var second = await hub.SyncAsync("it-quality");
        Assert.Equal(4L, second.Deleted);

        var reports = await hub.Api.GetFromJsonAsync<List<RunQualityReport>>("/api/datasets/it-quality/quality");
        Assert.NotNull(reports);
        Assert.Equal([second.Id, first.Id], reports.Select(r => r.RunId));
        var checks = reports[1].Checks;
        var correct = checks.GetProperty("correct");
        Assert.Equal(0.8571, correct.GetProperty("validRate").GetDouble());
        Assert.Equal(2, correct.GetProperty("referenceViolations").GetProperty("ma_xa").GetInt64());
        var clean = checks.GetProperty("clean");
        Assert.Equal((1L, 1L, 1L), (clean.GetProperty("duplicateKeys").GetInt64(), clean.GetProperty("blankValues").GetInt64(), clean.GetProperty("untrimmedValues").GetInt64()));
        Assert.False(checks.GetProperty("complete").GetProperty("rowDropAlarm").GetBoolean());
        var drop = reports[0].Checks.GetProperty("complete");
        Assert.Equal((1L, 5L, true), (drop.GetProperty("rowCount").GetInt64(), drop.GetProperty("previousRowCount").GetInt64(), drop.GetProperty("rowDropAlarm").GetBoolean()));
        Assert.Equal(JsonValueKind.Object, reports[0].Checks.GetProperty("correct").GetProperty("referenceViolations").ValueKind);
    }

    [Fact]
    public async Task Reference_codes_are_checked_on_every_current_row_and_a_row_drop_alarm_is_logged_and_counted()
    {
        var alarms = new ConcurrentQueue<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Hub" && instrument.Name == "hub.quality.row_drop_alarms")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) => alarms.Enqueue(tags.ToArray().Single(t => t.Key == "dataset").Value as string ?? string.Empty));
        listener.Start();
        TestAgency.Serve(hub.Agency, "it-quality-xa", Enumerable.Range(1, 5).Select(i => (object)TestAgency.Ward(i)).ToList());
        await hub.SyncAsync("it-quality-xa");
        TestAgency.Serve(hub.Agency, "it-quality-ref", [
            new { ma_ho = "R1", ten = "Hộ Đinh", ma_xa = "22001" },
            new { ma_ho = "R2", ten = "Hộ Võ", ma_xa = "22003" },
            new { ma_ho = "R3", ten = "Hộ Mai", ma_xa = "22004" },
        ]);
        var first = await hub.SyncAsync("it-quality-ref");
        Assert.Equal(0, await ViolationsAsync(first.Id));

        // Two of the referenced wards disappear (a drop of 60 % of the reference dataset's rows); the households do not change.
        TestAgency.Serve(hub.Agency, "it-quality-xa", Enumerable.Range(1, 2).Select(i => (object)TestAgency.Ward(i)).ToList());
        var dropped = await hub.SyncAsync("it-quality-xa");
        var unchanged = await hub.SyncAsync("it-quality-ref");

        Assert.Equal((3L, (long?)null), (unchanged.Unchanged, unchanged.Version));
        Assert.Equal(2, await ViolationsAsync(unchanged.Id));
        Assert.Contains("it-quality-xa", alarms);
        Assert.Contains(hub.Logs.Lines, l => l.Contains($"Row-count drop alarm on it-quality-xa: run {dropped.Id} leaves 2 rows, the version before had 5", StringComparison.Ordinal));
    }

    private async Task<long> ViolationsAsync(Guid runId)
    {
        var reports = await hub.Api.GetFromJsonAsync<List<RunQualityReport>>("/api/datasets/it-quality-ref/quality");
        return reports!.Single(r => r.RunId == runId).Checks.GetProperty("correct").GetProperty("referenceViolations").GetProperty("ma_xa").GetInt64();
    }
}
