using System.Net.Http.Json;
using System.Text.Json;
using Hub.Api.Datasets;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class PrivacyTests(HubFixture hub)
{
    private static readonly string[] Secrets = ["Nguyễn Văn Thành", "Trần Thị Hoa", "058123456789", "058987654321", "0912345678", "0987654321"];

    [Fact]
    public async Task Fields_marked_as_personal_data_never_reach_the_open_data_store_the_api_or_the_logs()
    {
        TestAgency.Serve(hub.Agency, "it-personal", [
            new { ma_xa = "22738", ten_xa = "Phường Đô Vinh", chu_tich = "Nguyễn Văn Thành", so_cccd = "058123456789", dien_thoai = "0912345678" },
            new { ma_xa = "22741", ten_xa = "Phường Phước Mỹ", chu_tich = "Trần Thị Hoa", so_cccd = "058987654321", dien_thoai = "0987654321" },
            new { ma_xa = "22744", ten_xa = "Phường Bảo An", chu_tich = "Trần Thị Hoa", so_cccd = "058987654321" },
        ]);

        var run = await hub.SyncAsync("it-personal");

        Assert.Equal(("succeeded", 3L), (run.Status, run.Inserted));
        Assert.Equal(0L, await hub.QueryScalarAsync<long>(
            "select count(*) from information_schema.columns where table_schema = 'open_data' and table_name = 'it_personal' and column_name = 'dien_thoai'"));
        var stored = await hub.QueryScalarAsync<string>("select string_agg(to_jsonb(t)::text, ' ') from open_data.it_personal t");
        var records = (await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-personal/records"))!.Records;
        var changes = await hub.Api.GetStringAsync("/api/datasets/it-personal/changes?since=0");
        var logs = string.Join('\n', hub.Logs.Lines);
        Assert.Contains($"Run {run.Id} of it-personal", logs, StringComparison.Ordinal);
        foreach (var secret in Secrets)
        {
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, changes, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, JsonSerializer.Serialize(records), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }

        var doVinh = records.Single(r => r.GetProperty("ma_xa").GetString() == "22738");
        Assert.Equal("*************ành", doVinh.GetProperty("chu_tich").GetString());
        Assert.Equal(64, doVinh.GetProperty("so_cccd").GetString()!.Length);
        Assert.False(doVinh.TryGetProperty("dien_thoai", out _));
        Assert.Equal("Phường Đô Vinh", doVinh.GetProperty("ten_xa").GetString());
        var sameCitizen = records.Where(r => r.GetProperty("chu_tich").GetString() == "*********Hoa").Select(r => r.GetProperty("so_cccd").GetString()).Distinct();
        Assert.Single(sameCitizen);
    }
}
