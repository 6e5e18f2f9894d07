using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Api.Datasets;
using Hub.Api.Lineage;
using Hub.Api.Quarantine;
using Hub.Api.Runs;
using Hub.Core.Messages;
using Hub.Worker.Catalog;
using Hub.Worker.Messaging;
using Hub.Worker.Quarantine;
using Hub.Worker.Store;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class StoreTests(HubFixture hub)
{
    [Fact]
    public async Task The_audit_chain_verifies_and_names_a_row_or_run_edited_by_sql()
    {
        TestAgency.Serve(hub.Agency, "it-audit", TestAgency.Wards(20));
        await hub.SyncAsync("it-audit");
        var changed = TestAgency.Wards(20);
        changed[3] = TestAgency.Ward(4, " mới");
        TestAgency.Serve(hub.Agency, "it-audit", changed);
        var second = await hub.SyncAsync("it-audit");
        var chain = hub.Worker.Services.GetRequiredService<AuditChain>();

        var intact = await chain.VerifyAsync(CancellationToken.None);
        Assert.True(intact.Intact, intact.FirstBroken);
        Assert.True(intact.Entries >= 4);

        var original = await hub.QueryScalarAsync<string>("select ten_xa from open_data.it_audit where _key = '22010' and _version_to is null");
        await hub.QueryScalarAsync<int>("update open_data.it_audit set ten_xa = 'Xã bị sửa' where _key = '22010' and _version_to is null; select 1");
        var tampered = await chain.VerifyAsync(CancellationToken.None);
        Assert.False(tampered.Intact);
        Assert.Contains("it-audit version 1", tampered.FirstBroken, StringComparison.Ordinal);
        Assert.Contains("were altered after publication", tampered.FirstBroken, StringComparison.Ordinal);

        await hub.QueryScalarAsync<int>("update open_data.it_audit set ten_xa = @original where _key = '22010' and _version_to is null; select 1", new { original });
        Assert.True((await chain.VerifyAsync(CancellationToken.None)).Intact);

        await hub.QueryScalarAsync<int>("update hub.runs set inserted = inserted + 1 where id = @Id; select 1", new { second.Id });
        var runEdited = await chain.VerifyAsync(CancellationToken.None);
        Assert.Contains($"run {second.Id}", runEdited.FirstBroken, StringComparison.Ordinal);
        Assert.Contains("differs from what the chain recorded", runEdited.FirstBroken, StringComparison.Ordinal);
        await hub.QueryScalarAsync<int>("update hub.runs set inserted = inserted - 1 where id = @Id; select 1", new { second.Id });

        await hub.QueryScalarAsync<int>("update hub.audit_log set entry = jsonb_set(entry, '{row_count}', '999') where kind = 'version' and dataset_id = 'it-audit' and version = 2; select 1");
        var entryEdited = await chain.VerifyAsync(CancellationToken.None);
        Assert.Contains("does not match its hash", entryEdited.FirstBroken, StringComparison.Ordinal);
        await hub.QueryScalarAsync<int>("update hub.audit_log set entry = jsonb_set(entry, '{row_count}', '20') where kind = 'version' and dataset_id = 'it-audit' and version = 2; select 1");
        Assert.True((await chain.VerifyAsync(CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task A_first_version_is_loaded_then_indexed_and_its_indexes_hold_afterwards()
    {
        TestAgency.Serve(hub.Agency, "it-bulk-load", TestAgency.Wards(30));
        var first = await hub.SyncAsync("it-bulk-load");
        Assert.Equal(("succeeded", 30L), (first.Status, first.Inserted));

        // The load into the empty table dropped its indexes and built them again: the same four, valid.
        var indexes = await hub.QueryAsync<(string Name, string Definition, bool Valid)>(
            """
            select i.indexname, i.indexdef, x.indisvalid from pg_indexes i join pg_class c on c.relname = i.indexname join pg_index x on x.indexrelid = c.oid
            where i.schemaname = 'open_data' and i.tablename = 'it_bulk_load' order by i.indexname
            """);
        Assert.Equal(["it_bulk_load_current", "it_bulk_load_from", "it_bulk_load_history", "it_bulk_load_to"], indexes.Select(i => i.Name));
        Assert.All(indexes, i => Assert.True(i.Valid, i.Name));
        Assert.Contains("CREATE UNIQUE INDEX it_bulk_load_current ON open_data.it_bulk_load USING btree (_key) WHERE (_version_to IS NULL)", indexes.Select(i => i.Definition));

        // Its key and version columns were sampled in the same transaction, for the plans of the next merge (autovacuum
        // samples a table this small only once it has more rows).
        Assert.Equal(["_key", "_version_from", "_version_to"], await hub.QueryAsync<string>(
            "select attname::text from pg_stats where schemaname = 'open_data' and tablename = 'it_bulk_load' order by attname"));

        // The next run merges through them: one ward changed, one gone, all found by key.
        var changed = TestAgency.Wards(29);
        changed[0] = TestAgency.Ward(1, " (2)");
        TestAgency.Serve(hub.Agency, "it-bulk-load", changed);
        var second = await hub.SyncAsync("it-bulk-load");
        Assert.Equal((0L, 1L, 1L, 28L), (second.Inserted, second.Updated, second.Deleted, second.Unchanged));
        var violation = await Assert.ThrowsAsync<PostgresException>(() => hub.QueryScalarAsync<int>(
            "insert into open_data.it_bulk_load select * from open_data.it_bulk_load where _key = '22003' and _version_to is null; select 1"));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, violation.SqlState);
    }

    [Fact]
    public async Task Versions_changes_as_of_and_lineage_tell_the_history_of_a_record()
    {
        TestAgency.Serve(hub.Agency, "it-events", TestAgency.Wards(5));
        var first = await hub.SyncAsync("it-events");
        var updated = TestAgency.Wards(5).Where((_, i) => i != 1).ToList();
        updated[0] = TestAgency.Ward(1, " (sáp nhập)");
        updated.Add(TestAgency.Ward(6));
        TestAgency.Serve(hub.Agency, "it-events", updated);
        var second = await hub.SyncAsync("it-events");

        var versions = await hub.Api.GetFromJsonAsync<List<VersionSummary>>("/api/datasets/it-events/versions");
        Assert.NotNull(versions);
        Assert.Equal([2L, 1L], versions.Select(v => v.Version));
        Assert.Equal((1L, 1L, 1L, 5L), (versions[0].Inserted, versions[0].Updated, versions[0].Deleted, versions[0].RowCount));

        var changes = await hub.Api.GetFromJsonAsync<ChangePage>("/api/datasets/it-events/changes?since=1");
        Assert.Equal([(2L, "c", "22006"), (2L, "d", "22002"), (2L, "u", "22001")],
            changes!.Changes.Select(c => (c.Version, c.Op, c.Key)).OrderBy(c => c.Key, StringComparer.Ordinal).Reverse().ToList());
        Assert.Null(changes.Changes.Single(c => c.Op == "d").Record);
        Assert.EndsWith("(sáp nhập)", changes.Changes.Single(c => c.Op == "u").Record!.Value.GetProperty("ten_xa").GetString(), StringComparison.Ordinal);
        var all = await hub.Api.GetFromJsonAsync<ChangePage>("/api/datasets/it-events/changes?since=0&limit=4");
        Assert.Equal(4, all!.Changes.Count);
        var rest = await hub.Api.GetFromJsonAsync<ChangePage>($"/api/datasets/it-events/changes?since=0&after={Uri.EscapeDataString(all.Next!)}");
        Assert.Equal(8, all.Changes.Count + rest!.Changes.Count);

        var before = versions[1].PublishedAt.AddTicks(-1);
        var atFirst = await hub.Api.GetFromJsonAsync<RecordPage>($"/api/datasets/it-events/records?asOf={Uri.EscapeDataString(versions[0].PublishedAt.AddTicks(-1).ToString("O"))}");
        Assert.Equal((1L, 5), (atFirst!.Version, atFirst.Records.Count));
        var beforeAll = await hub.Api.GetFromJsonAsync<RecordPage>($"/api/datasets/it-events/records?asOf={Uri.EscapeDataString(before.ToString("O"))}");
        Assert.Equal((0L, 0), (beforeAll!.Version, beforeAll.Records.Count));

        var lineage = await hub.Api.GetFromJsonAsync<RecordLineage>("/api/lineage/it-events/22001");
        Assert.Equal(2, lineage!.Versions.Count);
        Assert.Equal((1L, 2L), (lineage.Versions[0].VersionFrom, lineage.Versions[0].VersionTo!.Value));
        Assert.Equal(first.Id, lineage.Versions[0].Origin.RunId);
        Assert.Equal(second.Id, lineage.Versions[1].Origin.RunId);
        Assert.Null(lineage.Versions[1].VersionTo);
        Assert.Contains("/it-events?tinh=58", lineage.Versions[1].Origin.RequestUrl, StringComparison.Ordinal);
        Assert.Equal(64, lineage.Versions[1].Origin.ConfigRevision.Length);
        Assert.Equal(1, lineage.Versions[1].Origin.SchemaVersion);
        var payload = await hub.OperatorApi.GetByteArrayAsync($"/api/payloads/{lineage.Versions[1].Origin.PayloadSha256}");
        Assert.Equal(lineage.Versions[1].Origin.PayloadSha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload)));
        Assert.Contains("(sáp nhập)", System.Text.Encoding.UTF8.GetString(payload), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.Api.GetAsync("/api/lineage/it-events/99999")).StatusCode);
    }

    [Fact]
    public async Task A_follower_of_the_change_events_rebuilds_the_published_dataset()
    {
        var state = new ConcurrentDictionary<string, string>();
        var seenParts = new ConcurrentDictionary<string, byte>();
        var versions = new ConcurrentQueue<DatasetVersionPublished>();
        var follower = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.UseHost(new Uri(HubFixture.Required("HUB_TEST_RABBITMQ")));
            rabbit.ReceiveEndpoint($"it-follower-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.Handler<RecordChangesPublished>(context =>
                {
                    var message = context.Message;
                    if (message.DatasetId != "it-redelivery" || !seenParts.TryAdd(message.Id, 0))
                    {
                        return Task.CompletedTask;
                    }

                    Assert.Equal(("1.0", RecordChangesPublished.EventType, "/datasets/it-redelivery"), (message.SpecVersion, message.Type, message.Source));
                    foreach (var change in message.Changes)
                    {
                        if (change.Op == "d")
                        {
                            state.TryRemove(change.Key, out _);
                        }
                        else
                        {
                            state[change.Key] = change.Values!.Value.GetProperty("ten_xa").GetString()!;
                        }
                    }

                    return Task.CompletedTask;
                });
                endpoint.Handler<DatasetVersionPublished>(context =>
                {
                    if (context.Message.DatasetId == "it-redelivery")
                    {
                        versions.Enqueue(context.Message);
                    }

                    return Task.CompletedTask;
                });
            });
        });
        await follower.StartAsync();
        try
        {
            TestAgency.Serve(hub.Agency, "it-redelivery", TestAgency.Wards(1200));
            await hub.SyncAsync("it-redelivery");
            var next = TestAgency.Wards(1200).Where((_, i) => i % 100 != 7).ToList();
            next[0] = TestAgency.Ward(1, " đổi");
            TestAgency.Serve(hub.Agency, "it-redelivery", next);
            await hub.SyncAsync("it-redelivery");

            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (versions.Count < 2 && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100);
            }

            Assert.Equal([1L, 2L], versions.Select(v => v.Version));
            Assert.Equal(3 + 1, seenParts.Count);
            var published = new List<JsonElement>();
            string? after = null;
            do
            {
                var page = await hub.Api.GetFromJsonAsync<RecordPage>($"/api/datasets/it-redelivery/records?limit=1000{(after is null ? string.Empty : $"&after={after}")}");
                published.AddRange(page!.Records);
                after = page.Next;
            }
            while (after is not null);

            Assert.Equal(published.Count, state.Count);
            Assert.All(published, r => Assert.Equal(r.GetProperty("ten_xa").GetString(), state[r.GetProperty("ma_xa").GetString()!]));
        }
        finally
        {
            await follower.StopAsync();
        }
    }

    [Fact]
    public async Task A_batch_staged_twice_and_a_completion_delivered_twice_count_once()
    {
        var catalog = hub.Worker.Services.GetRequiredService<HubCatalog>();
        var runs = hub.Worker.Services.GetRequiredService<RunStore>();
        var bus = hub.Worker.Services.GetRequiredService<IBus>();
        var writer = hub.Worker.Services.GetRequiredService<SnapshotWriter>();
        var dataset = catalog.Find("it-replay")!;
        var runId = await runs.StartAsync(dataset.Dataset, RunTrigger.Push, CancellationToken.None);
        var payloadSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(new byte[] { 7 }));
        var page = new Hub.Connectors.Http.FetchedPage(new Uri("http://agency.test/push"), TimeProvider.System.GetUtcNow(), 200, [7], payloadSha256, JsonDocument.Parse("[]"), []);
        await runs.RecordRequestAsync(runId, 0, page, CancellationToken.None);
        var records = Enumerable.Range(900, 30)
            .Select(i => dataset.Checker.Check(JsonSerializer.SerializeToElement(TestAgency.Ward(i))).Valid!)
            .ToList();
        var request = new FetchedRequest(0, "http://agency.test/push", TimeProvider.System.GetUtcNow(), 200, payloadSha256);
        var batch0 = new FetchedBatch(runId, "it-replay", 0, request, records[..20], []);
        var batch1 = new FetchedBatch(runId, "it-replay", 1, request, records[20..], []);

        Assert.True(await writer.StageAsync(batch0, CancellationToken.None));
        Assert.True(await writer.StageAsync(batch1, CancellationToken.None));
        Assert.False(await writer.StageAsync(batch0, CancellationToken.None));
        await bus.Publish(new RunFetchCompleted(runId, "it-replay", 2, 30));
        await bus.Publish(new RunFetchCompleted(runId, "it-replay", 2, 30));
        var run = await hub.WaitForRunAsync(runId);
        Assert.False(await writer.StageAsync(batch1, CancellationToken.None));

        Assert.Equal(("succeeded", 30L, 30L, 0L), (run.Status, run.Valid, run.Inserted, run.Duplicates));
        await Task.Delay(500);
        Assert.Equal(30L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_replay where _run_id = @runId", new { runId }));
        Assert.Equal(2L, await hub.QueryScalarAsync<long>("select count(*) from hub.run_batches where run_id = @runId", new { runId }));
    }

    [Fact]
    public async Task Quarantined_records_that_pass_after_a_schema_fix_are_replayed_with_their_original_lineage()
    {
        var records = TestAgency.Wards(6);
        records[1] = new Dictionary<string, object?> { ["ma_xa"] = "22002", ["ten_xa"] = "Xã âm", ["dan_so"] = -5 };
        records[2] = new Dictionary<string, object?> { ["ma_xa"] = "22003", ["ten_xa"] = "Xã âm nữa", ["dan_so"] = -7 };
        records[3] = new Dictionary<string, object?> { ["ma_xa"] = "22004", ["ten_xa"] = string.Empty, ["dan_so"] = 1 };
        TestAgency.Serve(hub.Agency, "it-replay", records);
        var first = await hub.SyncAsync("it-replay");
        Assert.Equal(3L, first.Quarantined);

        // 22003 comes back valid in a later run: its old quarantined record must never overwrite it. 22005, published,
        // is quarantined and then no longer listed: deleted since, its quarantined record must not bring it back.
        records[2] = TestAgency.Ward(3);
        records[4] = new Dictionary<string, object?> { ["ma_xa"] = "22005", ["ten_xa"] = "Xã âm thứ ba", ["dan_so"] = -9 };
        TestAgency.Serve(hub.Agency, "it-replay", records);
        var second = await hub.SyncAsync("it-replay");
        Assert.Equal(3L, second.Quarantined);
        records.RemoveAt(4);
        TestAgency.Serve(hub.Agency, "it-replay", records);
        var third = await hub.SyncAsync("it-replay");
        Assert.Equal((2L, 1L), (third.Quarantined, third.Deleted));

        var listed = await hub.OperatorApi.GetFromJsonAsync<List<QuarantinedRecord>>("/api/quarantine?dataset=it-replay");
        Assert.Equal(8, listed!.Count);
        Assert.All(listed, q => Assert.NotEqual(JsonValueKind.Undefined, q.Errors.ValueKind));

        // The fix: the schema no longer requires a positive population (a new catalogue, registered as after a restart).
        await hub.WithFixedWardSchemaAsync("it-replay", fixedCatalog => ReplayAfterTheFixAsync(fixedCatalog, third.Id));
    }

    private async Task ReplayAfterTheFixAsync(HubCatalog fixedCatalog, Guid lastRunId)
    {
        var replay = new QuarantineReplay(fixedCatalog, hub.Worker.Services.GetRequiredService<NpgsqlDataSource>(), hub.Worker.Services.GetRequiredService<RunStore>(),
            hub.Worker.Services.GetRequiredService<SnapshotWriter>(), hub.Worker.Services.GetRequiredService<AuditChain>(), hub.Worker.Services.GetRequiredService<IBus>(), NullLogger<QuarantineReplay>.Instance);

        var result = await replay.ReplayAsync("it-replay", "it-operator", CancellationToken.None);

        Assert.NotNull(result!.RunId);
        Assert.Equal((2, 1, 1), (result.Checked, result.Passed, result.StillFailing));
        var run = await hub.WaitForRunAsync(result.RunId.Value);
        Assert.Equal(("succeeded", 1L, 0L, 0L), (run.Status, run.Inserted, run.Updated, run.Deleted));
        var lineage = await hub.Api.GetFromJsonAsync<RecordLineage>("/api/lineage/it-replay/22002");
        var origin = Assert.Single(lineage!.Versions).Origin;
        Assert.Equal(("replay", result.RunId.Value), (origin.Trigger, origin.RunId));
        var lastRun = await hub.OperatorApi.GetFromJsonAsync<RunDetail>($"/api/runs/{lastRunId}");
        Assert.Equal(lastRun!.Requests[0].PayloadSha256, origin.PayloadSha256);
        var current = await hub.Api.GetFromJsonAsync<RecordPage>("/api/datasets/it-replay/records");
        Assert.Equal(JsonValueKind.Number, current!.Records.Single(r => r.GetProperty("ma_xa").GetString() == "22003").GetProperty("dan_so").ValueKind);
        Assert.True(current.Records.Single(r => r.GetProperty("ma_xa").GetString() == "22003").GetProperty("dan_so").GetInt32() > 0);
        Assert.DoesNotContain(current.Records, r => r.GetProperty("ma_xa").GetString() is "22004" or "22005");

        var again = await replay.ReplayAsync("it-replay", "it-operator", CancellationToken.None);
        Assert.Equal((null, 1, 0), (again!.RunId, again.Checked, again.Passed));
    }
}
