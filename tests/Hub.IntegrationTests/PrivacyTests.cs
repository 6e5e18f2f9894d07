using System.Net.Http.Json;
using System.Text.Encodings.Web;
using System.Text.Json;
using Hub.Api.Datasets;
using Hub.Core.Messages;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class PrivacyTests(HubFixture hub)
{
    // Vietnamese text as it is, not \u-escaped, so that a name in an event is found.
    private static readonly JsonSerializerOptions Unescaped = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] Secrets = ["Nguyễn Văn Thành", "Trần Thị Hoa", "058123456789", "058987654321", "0912345678", "0987654321"];

    [Fact]
    public async Task Fields_marked_as_personal_data_never_reach_the_open_data_store_the_api_or_the_logs()
    {
        TestAgency.Serve(hub.Agency, "it-personal", [
            new { ma_xa = "22738", ten_xa = "Phường Đô Vinh", chu_tich = "Nguyễn Văn Thành", so_cccd = "058123456789", dien_thoai = "0912345678" },
            new { ma_xa = "22741", ten_xa = "Phường Phước Mỹ", chu_tich = "Trần Thị Hoa", so_cccd = "058987654321", dien_thoai = "0987654321" },
            new { ma_xa = "22744", ten_xa = "Phường Bảo An, \"TP\" Phan Rang", chu_tich = "Trần Thị Hoa", so_cccd = "058987654321" },
        ]);

        await using var follower = await ChangeFollower.StartAsync("it-personal");
        var run = await hub.SyncAsync("it-personal");

        Assert.Equal(("succeeded", 3L), (run.Status, run.Inserted));
        Assert.Equal(0L, await hub.QueryScalarAsync<long>(
            "select count(*) from information_schema.columns where table_schema = 'open_data' and table_name = 'it_personal' and column_name = 'dien_thoai'"));
        var stored = await hub.QueryScalarAsync<string>("select string_agg(to_jsonb(t)::text, ' ') from open_data.it_personal t");
        var records = (await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-personal/records"))!.Records;
        var changes = await hub.Api.GetStringAsync("/api/datasets/it-personal/changes?since=0");
        var csvBytes = await hub.Api.GetByteArrayAsync("/api/datasets/it-personal/export?format=csv");
        var csv = System.Text.Encoding.UTF8.GetString(csvBytes);
        var json = await hub.Api.GetStringAsync("/api/datasets/it-personal/export?format=json");
        await follower.WaitForAsync(received => received.Any(m => m is DatasetVersionPublished { Version: 1 }));
        var events = JsonSerializer.Serialize(follower.Received, Unescaped);
        Assert.Contains("Phường Đô Vinh", events, StringComparison.Ordinal);
        var logs = string.Join('\n', hub.Logs.Lines);
        Assert.Contains($"Run {run.Id} of it-personal", logs, StringComparison.Ordinal);
        foreach (var secret in Secrets)
        {
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, changes, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, events, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, JsonSerializer.Serialize(records), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, csv, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, json, StringComparison.Ordinal);
        }

        var doVinh = records.Single(r => r.GetProperty("ma_xa").GetString() == "22738");
        Assert.Equal("*************ành", doVinh.GetProperty("chu_tich").GetString());
        Assert.Equal(64, doVinh.GetProperty("so_cccd").GetString()!.Length);
        Assert.False(doVinh.TryGetProperty("dien_thoai", out _));
        Assert.Equal("Phường Đô Vinh", doVinh.GetProperty("ten_xa").GetString());
        var sameCitizen = records.Where(r => r.GetProperty("chu_tich").GetString() == "*********Hoa").Select(r => r.GetProperty("so_cccd").GetString()).Distinct();
        Assert.Single(sameCitizen);

        Assert.Equal([0xEF, 0xBB, 0xBF], csvBytes[..3]);
        var lines = csv[1..].Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("ma_xa,ten_xa,chu_tich,so_cccd", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("22744,\"Phường Bảo An, \"\"TP\"\" Phan Rang\",*********Hoa,", lines[3], StringComparison.Ordinal);
        var exported = JsonDocument.Parse(json).RootElement;
        Assert.Equal(3, exported.GetArrayLength());
        Assert.Equal("Phường Đô Vinh", exported[0].GetProperty("ten_xa").GetString());
    }
}
