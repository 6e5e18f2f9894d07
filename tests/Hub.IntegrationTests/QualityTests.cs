using System.Net.Http.Json;
using System.Text.Json;
using Hub.Api.Datasets;

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
}
