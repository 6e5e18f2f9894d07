using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Api.Connectors;
using Hub.Api.Datasets;
using Hub.Api.Lineage;
using Hub.Worker.Cli;
using Hub.Worker.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class AtomicityTests(HubFixture hub)
{
    [Fact]
    public async Task Readers_see_version_one_or_version_two_never_a_mix_while_a_run_publishes()
    {
        TestAgency.Serve(hub.Agency, "it-atomic", TestAgency.Wards(2000, " v1"));
        Assert.Equal(1L, (await hub.SyncAsync("it-atomic")).Version);
        var firstPage = await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-atomic/records?limit=1000");
        TestAgency.Serve(hub.Agency, "it-atomic", TestAgency.Wards(2000, " v2"));

        var sync = hub.SyncAsync("it-atomic");
        var reads = 0;
        var sawVersions = new HashSet<long>();
        while (!sync.IsCompleted || reads == 0)
        {
            var page = await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-atomic/records?limit=1000");
            var suffixes = page!.Records.Select(r => r.GetProperty("ten_xa").GetString()![^2..]).Distinct().ToList();
            Assert.Equal([page.Version == 1 ? "v1" : "v2"], suffixes);
            Assert.Equal(1000, page.Records.Count);
            sawVersions.Add(page.Version);
            reads++;
        }

        Assert.Equal(2L, (await sync).Version);
        Assert.Contains(1L, sawVersions);

        // A reader paging through version 1 keeps reading version 1 after version 2 is published.
        var secondPage = await hub.Api.GetFromJsonAsync<RecordPage>($"/api/datasets/it-atomic/records?limit=1000&version={firstPage!.Version}&after={firstPage.Next}");
        Assert.Equal(1000, secondPage!.Records.Count);
        Assert.All(secondPage.Records, r => Assert.EndsWith(" v1", r.GetProperty("ten_xa").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_property_that_changes_type_stops_the_dataset_until_a_new_schema_version_is_declared()
    {
        using var agency = new OwnAgency(hub, "it-retype");
        TestAgency.Serve(hub.Agency, "it-retype", TestAgency.Wards(20, ""));
        agency.Write(TestAgency.WardSchema);
        await agency.RegisteredAsync(1, "dan_so");
        Assert.Equal(1L, (await hub.SyncAsync("it-retype")).Version);
        var (_, key) = await IssueKeyAsync("OWN-RETYPE");

        // dan_so becomes text under the same schema version: the dataset is blocked, and says why.
        var textSchema = TestAgency.WardSchema.Replace("\"dan_so\": { \"type\": \"integer\", \"minimum\": 0 }", "\"dan_so\": { \"type\": \"string\" }", StringComparison.Ordinal);
        agency.Write(textSchema);
        await agency.UntilAsync("select blocked_reason is not null from hub.datasets where id = @id", "blocked");
        var status = (await hub.Api.GetFromJsonAsync<List<ConnectorStatus>>("/api/connectors"))!.Single(c => c.DatasetId == "it-retype");
        Assert.Contains("property 'dan_so' changes type from bigint to text", status.BlockedReason, StringComparison.Ordinal);
        Assert.Contains("schema_version: 2", status.BlockedReason, StringComparison.Ordinal);
        Assert.Equal("unscheduled", status.State);
        Assert.Equal(status.BlockedReason, (await hub.Api.GetFromJsonAsync<DatasetSummary>("/api/datasets/it-retype"))!.BlockedReason);

        // Nothing is accepted meanwhile: a push, a replay and a manual run are refused with the reason.
        var textWards = Enumerable.Range(1, 20).Select(i =>
        {
            var ward = TestAgency.Ward(i);
            ward["dan_so"] = $"{ward["dan_so"]} người";
            return (object)ward;
        }).ToList();
        using (var push = await PushAsync(key, textWards))
        {
            Assert.Equal(HttpStatusCode.Conflict, push.StatusCode);
            Assert.Contains("changes type from bigint to text", await push.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var replay = await hub.OperatorApi.PostAsync("/api/quarantine/replay?dataset=it-retype", null);
        var manual = await hub.OperatorApi.PostAsync("/api/connectors/it-retype/run", null);
        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (replay.StatusCode, manual.StatusCode));
        // The same refusal (RunStore's), worded once.
        var refusal = (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString();
        Assert.StartsWith("dataset 'it-retype' is blocked: ", refusal, StringComparison.Ordinal);
        Assert.Equal(refusal, (await manual.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal("bigint", await hub.QueryScalarAsync<string>(
            "select data_type from information_schema.columns where table_schema = 'open_data' and table_name = 'it_retype' and column_name = 'dan_so'"));

        // Schema version 2 declares the change: a new table, published by the next full run; version 1 stays readable by SQL.
        TestAgency.Serve(hub.Agency, "it-retype", textWards);
        agency.Write(textSchema, schemaVersion: 2);
        await agency.UntilAsync("select pending_table = 'it_retype__v2' and blocked_reason is null from hub.datasets where id = @id", "new table pending");
        using (var early = await PushAsync(key, textWards))
        {
            Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
            Assert.Contains("next full run", await early.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var run = await hub.SyncAsync("it-retype");

        Assert.Equal(("succeeded", 2L, 20L), (run.Status, run.Version, run.Inserted));
        Assert.Equal("it_retype__v2", await hub.QueryScalarAsync<string>("select table_name from hub.datasets where id = 'it-retype'"));
        Assert.Equal("text", await hub.QueryScalarAsync<string>(
            "select data_type from information_schema.columns where table_schema = 'open_data' and table_name = 'it_retype__v2' and column_name = 'dan_so'"));
        Assert.Equal("it_retype", await hub.QueryScalarAsync<string>("select table_name from hub.versions where dataset_id = 'it-retype' and version = 1"));
        Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_retype where _version_to is null"));
        var lineage = await hub.Api.GetFromJsonAsync<RecordLineage>("/api/lineage/it-retype/22001");
        Assert.Equal([(1L, (long?)2L, JsonValueKind.Number), (2L, null, JsonValueKind.String)],
            lineage!.Versions.Select(v => (v.VersionFrom, v.VersionTo, v.Values.GetProperty("dan_so").ValueKind)).ToList());
        var page = await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-retype/records?limit=100");
        Assert.Equal(2L, page!.Version);
        Assert.Equal(20, page.Records.Count);
        Assert.All(page.Records, r => Assert.EndsWith(" người", r.GetProperty("dan_so").GetString(), StringComparison.Ordinal));

        // Version 1 stays readable where it is: records (by version and as of its time), export and its change events.
        var old = await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-retype/records?limit=100&version=1");
        Assert.Equal(20, old!.Records.Count);
        Assert.All(old.Records, r => Assert.Equal(JsonValueKind.Number, r.GetProperty("dan_so").ValueKind));
        var publishedAt = await hub.QueryScalarAsync<DateTime>("select published_at from hub.versions where dataset_id = 'it-retype' and version = 1");
        var asOf = await hub.Api.GetFromJsonAsync<RecordPage>($"/api/datasets/it-retype/records?limit=100&asOf={Uri.EscapeDataString(new DateTimeOffset(publishedAt).ToString("O", System.Globalization.CultureInfo.InvariantCulture))}");
        Assert.Equal((1L, 20), (asOf!.Version, asOf.Records.Count));
        var export = await hub.Api.GetFromJsonAsync<List<JsonElement>>("/api/datasets/it-retype/export?format=json&version=1");
        Assert.Equal(20, export!.Count);
        var events = new List<RecordChange>();
        await foreach (var change in hub.Worker.Services.GetRequiredService<SnapshotWriter>().StreamVersionChangesAsync("it-retype", 1, CancellationToken.None))
        {
            events.Add(change);
        }

        Assert.Equal(20, events.Count(e => e.Op == "c"));

        // The change feed reads one table: across the move it answers 410 Gone with where to go on; from the move on, all created.
        using (var across = await hub.Api.GetAsync("/api/datasets/it-retype/changes?since=0"))
        {
            Assert.Equal(HttpStatusCode.Gone, across.StatusCode);
            Assert.Contains("moved to a new table at version 2 (schema version 2)", await across.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var changes = await hub.Api.GetFromJsonAsync<ChangePage>("/api/datasets/it-retype/changes?since=1");
        Assert.Equal(20, changes!.Changes.Count(c => c is { Version: 2, Op: "c" }));

        using (var pushed = await PushAsync(key, textWards.Take(1).ToList()))
        {
            Assert.Equal(HttpStatusCode.Accepted, pushed.StatusCode);
        }

        // Version 1 is verified in the table that holds it, and the move's version answers for the rows it ended there.
        var audit = hub.Worker.Services.GetRequiredService<AuditChain>();
        var verified = await audit.VerifyAsync(CancellationToken.None);
        Assert.True(verified.Intact, verified.FirstBroken);
        Assert.Equal(1L, await hub.QueryScalarAsync<long>("with u as (update open_data.it_retype set _version_to = null where _key = '22001' returning 1) select count(*) from u"));
        try
        {
            var reopened = await audit.VerifyAsync(CancellationToken.None);
            Assert.Contains("version 2", reopened.FirstBroken, StringComparison.Ordinal);
            Assert.Contains("ended in open_data.\"it_retype\" was altered", reopened.FirstBroken, StringComparison.Ordinal);
        }
        finally
        {
            await hub.QueryScalarAsync<long>("with u as (update open_data.it_retype set _version_to = 2 where _key = '22001' returning 1) select count(*) from u");
        }

        verified = await audit.VerifyAsync(CancellationToken.None);
        Assert.True(verified.Intact, verified.FirstBroken);
    }

    private async Task<(string KeyId, string Key)> IssueKeyAsync(string agency)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Hub"] = hub.ConnectionString }).Build();
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(0, await AgenciesCommand.RunAsync(["issue-key", agency], configuration, output, error));
        string Field(string name) => output.ToString().Split('\n').Single(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();
        return (Field("key id"), Field("key"));
    }

    private async Task<HttpResponseMessage> PushAsync(string key, IReadOnlyList<object> records)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/ingest/it-retype") { Content = JsonContent.Create(records) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await hub.Api.SendAsync(request);
    }
}
