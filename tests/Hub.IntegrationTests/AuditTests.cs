using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Hub.Worker.Cli;
using Hub.Worker.Freshness;
using Hub.Worker.Access;
using Hub.Worker.Quarantine;
using Hub.Worker.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Hub.IntegrationTests;

/// <summary>What <c>audit verify</c> must notice beyond an edited row: changes made by SQL outside the hub, operator actions, the CLI.</summary>
[Collection(HubTestGroup.Name)]
public sealed class AuditTests(HubFixture hub)
{
    private AuditChain Chain => hub.Worker.Services.GetRequiredService<AuditChain>();

    [Fact]
    public async Task Verify_names_rows_runs_versions_requests_counters_and_payloads_changed_outside_the_hub()
    {
        TestAgency.Serve(hub.Agency, "it-audit-cover", TestAgency.Wards(20));
        await hub.SyncAsync("it-audit-cover");
        TestAgency.Serve(hub.Agency, "it-audit-cover", TestAgency.Wards(21, " (2)"));
        var second = await hub.SyncAsync("it-audit-cover");
        var intact = await Chain.VerifyAsync(CancellationToken.None);
        Assert.True(intact.Intact, intact.FirstBroken);
        Assert.NotNull(intact.Head);

        // A row inserted by SQL under a version that was never published.
        await ExpectBrokenAsync(
            """insert into open_data.it_audit_cover select (jsonb_populate_record(null::open_data.it_audit_cover, to_jsonb(c) || '{"_key": "99999", "_version_from": 7}')).* from open_data.it_audit_cover c where c._key = '22001' and c._version_to is null""",
            "delete from open_data.it_audit_cover where _key = '99999'",
            "row '99999' of open_data.\"it_audit_cover\" names version 7, which hub.versions does not hold");

        // A current row closed by SQL under a version that was never published.
        await ExpectBrokenAsync(
            "update open_data.it_audit_cover set _version_to = 9 where _key = '22003' and _version_to is null",
            "update open_data.it_audit_cover set _version_to = null where _key = '22003' and _version_to = 9",
            "names version 2 to 9, which hub.versions does not hold");

        // The dataset's current version or row count edited.
        await ExpectBrokenAsync(
            "update hub.datasets set row_count = row_count + 5 where id = 'it-audit-cover'",
            "update hub.datasets set row_count = row_count - 5 where id = 'it-audit-cover'",
            "dataset it-audit-cover says current version 2 with 26 rows, but its last version entry in the chain is version 2 with 21 rows");
        await ExpectBrokenAsync(
            "update hub.datasets set current_version = 1 where id = 'it-audit-cover'",
            "update hub.datasets set current_version = 2 where id = 'it-audit-cover'",
            "dataset it-audit-cover says current version 1");

        // A run and a version that no publication wrote.
        var fake = Guid.NewGuid();
        await ExpectBrokenAsync(
            $"insert into hub.runs (id, dataset_id, trigger, status, started_at, finished_at, config_revision, schema_version) values ('{fake}', 'it-audit-cover', 'manual', 'failed', now(), now(), 'x', 1)",
            $"delete from hub.runs where id = '{fake}'",
            $"run {fake} of it-audit-cover ended but has no entry in the chain");
        await ExpectBrokenAsync(
            $"insert into hub.versions (dataset_id, version, run_id, published_at, inserted, updated, deleted, row_count) values ('it-audit-cover', 3, '{second.Id}', now(), 0, 0, 0, 21)",
            "delete from hub.versions where dataset_id = 'it-audit-cover' and version = 3",
            "version 3 of it-audit-cover has no entry in the chain");

        // The lineage of a request (its payload hash) edited, and a stored raw payload edited.
        var payload = await hub.QueryScalarAsync<string>("select payload_sha256 from hub.run_requests where run_id = @Id and sequence = 0", new { second.Id });
        await ExpectBrokenAsync(
            $"update hub.run_requests set payload_sha256 = repeat('0', 64) where run_id = '{second.Id}' and sequence = 0",
            $"update hub.run_requests set payload_sha256 = '{payload}' where run_id = '{second.Id}' and sequence = 0",
            $"run {second.Id}): the run record in the store differs from what the chain recorded (requests_digest)");
        await ExpectBrokenAsync(
            $"update hub.payloads set body = body || '\\x20'::bytea where sha256 = '{payload}'",
            $"update hub.payloads set body = substring(body from 1 for length(body) - 1) where sha256 = '{payload}'",
            $"the raw payload stored as {payload} does not hash to its name");
    }

    [Fact]
    public async Task Removing_the_last_entries_with_their_run_and_version_is_noticed_and_an_anchored_head_names_it()
    {
        TestAgency.Serve(hub.Agency, "it-audit-tail", TestAgency.Wards(10));
        await hub.SyncAsync("it-audit-tail");
        TestAgency.Serve(hub.Agency, "it-audit-tail", TestAgency.Wards(12, " (2)"));
        var last = await hub.SyncAsync("it-audit-tail");
        Assert.Equal(2L, last.Version);
        var anchor = (await Chain.VerifyAsync(CancellationToken.None)).Head!.Hash;
        Assert.True((await Chain.VerifyAsync(anchor, CancellationToken.None)).Intact);

        // Someone removes the last run, its version and their chain entries, and moves the dataset back to version 1.
        await using var connection = new NpgsqlConnection(hub.ConnectionString);
        await connection.OpenAsync();
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("select count(*) from hub.audit_log where seq > (select max(seq) from hub.audit_log where run_id = @Id)", new { last.Id }));
        const string tables = "audit_log:run_id, versions:run_id, run_quality:run_id, run_requests:run_id, run_batches:run_id, runs:id";
        foreach (var (table, column) in tables.Split(", ").Select(t => (t.Split(':')[0], t.Split(':')[1])))
        {
            await connection.ExecuteAsync($"create temp table removed_{table} as select * from hub.{table} where {column} = @Id; delete from hub.{table} where {column} = @Id", new { last.Id });
        }

        await connection.ExecuteAsync("update hub.datasets set current_version = 1, row_count = 10 where id = 'it-audit-tail'");

        var truncated = await Chain.VerifyAsync(CancellationToken.None);
        Assert.Contains("of open_data.\"it_audit_tail\" names version ", truncated.FirstBroken, StringComparison.Ordinal);
        Assert.Contains("which hub.versions does not hold", truncated.FirstBroken, StringComparison.Ordinal);
        var anchored = await Chain.VerifyAsync(anchor, CancellationToken.None);
        Assert.Contains($"the anchored head {anchor} is not in the chain", anchored.FirstBroken, StringComparison.Ordinal);

        foreach (var table in tables.Split(", ").Select(t => t.Split(':')[0]).Reverse())
        {
            await connection.ExecuteAsync($"insert into hub.{table} {(table == "audit_log" ? "overriding system value " : string.Empty)}select * from removed_{table}");
        }

        await connection.ExecuteAsync("update hub.datasets set current_version = 2, row_count = 12 where id = 'it-audit-tail'");
        var restored = await Chain.VerifyAsync(anchor, CancellationToken.None);
        Assert.True(restored.Intact, restored.FirstBroken);
    }

    [Fact]
    public async Task A_run_entry_written_before_requests_were_chained_still_verifies()
    {
        TestAgency.Serve(hub.Agency, "it-audit-cover", TestAgency.Wards(20));
        await hub.SyncAsync("it-audit-cover");
        await using var connection = new NpgsqlConnection(hub.ConnectionString);
        var last = await connection.QuerySingleAsync<(long Seq, string Kind, string Entry, string PrevHash, string Hash)>(
            "select seq, kind, entry::text, prev_hash, hash from hub.audit_log order by seq desc limit 1");
        Assert.Equal("run", last.Kind);
        Assert.Contains("\"requests_digest\"", last.Entry, StringComparison.Ordinal);

        // The same entry as the chain wrote it before format 2: the run record alone.
        var formatOne = await connection.ExecuteScalarAsync<string>("select (@Entry::jsonb - 'format' - 'requests' - 'requests_digest' - 'marked_deleted')::text", new { last.Entry });
        var canonical = Hub.Core.Records.RecordHash.CanonicalJson(System.Text.Json.JsonDocument.Parse(formatOne!).RootElement);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([.. System.Text.Encoding.UTF8.GetBytes(last.PrevHash + "\n"), .. canonical]));
        await connection.ExecuteAsync("update hub.audit_log set entry = @formatOne::jsonb, hash = @hash where seq = @Seq", new { formatOne, hash, last.Seq });
        var old = await Chain.VerifyAsync(CancellationToken.None);
        await connection.ExecuteAsync("update hub.audit_log set entry = @Entry::jsonb, hash = @Hash where seq = @Seq", new { last.Entry, last.Hash, last.Seq });

        Assert.True(old.Intact, old.FirstBroken);
        Assert.True((await Chain.VerifyAsync(CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task A_column_added_by_an_additive_schema_change_leaves_published_versions_intact()
    {
        TestAgency.Serve(hub.Agency, "it-audit-cover", TestAgency.Wards(20));
        await hub.SyncAsync("it-audit-cover");
        await using var connection = new NpgsqlConnection(hub.ConnectionString);
        await connection.ExecuteAsync("alter table open_data.it_audit_cover add column ghi_chu text");
        var widened = await Chain.VerifyAsync(CancellationToken.None);
        await connection.ExecuteAsync("update open_data.it_audit_cover set ghi_chu = 'sửa' where _key = '22002' and _version_to is null");
        var edited = await Chain.VerifyAsync(CancellationToken.None);
        await connection.ExecuteAsync("alter table open_data.it_audit_cover drop column ghi_chu");

        Assert.True(widened.Intact, widened.FirstBroken);
        Assert.Contains("were altered after publication", edited.FirstBroken, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operator_actions_are_chained_as_audit_events()
    {
        var before = await hub.QueryScalarAsync<long>("select coalesce(max(seq), 0) from hub.audit_log");
        var signature = $"it-operator (key {hub.OperatorKey.KeyId})";

        // A manual run quarantines a ward; once its record passes (as after a fix), a replay publishes it.
        QuarantineOneWard("it-audit-events");
        Assert.Equal(HttpStatusCode.Accepted, (await hub.OperatorApi.PostAsync("/api/connectors/it-audit-events/run", null)).StatusCode);
        var run = await hub.WaitForLatestRunAsync("it-audit-events");
        Assert.Equal(("manual", "succeeded", 1L), (run.Trigger, run.Status, run.Quarantined));
        await FixQuarantinedWardAsync("it-audit-events");
        var replayed = await hub.OperatorApi.PostAsync("/api/quarantine/replay?dataset=it-audit-events", null);
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.Equal("succeeded", (await hub.WaitForRunAsync((await replayed.Content.ReadFromJsonAsync<ReplayResult>())!.RunId!.Value)).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await hub.OperatorApi.PostAsync("/api/connectors/it-audit-events/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await hub.OperatorApi.PostAsync("/api/connectors/it-audit-events/resume", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await hub.OperatorApi.PostAsync("/api/connectors/it-audit-events/reset", null)).StatusCode);
        var keys = hub.ApiServices.GetRequiredService<ApiKeys>();
        var issued = await keys.IssueAsync("TEST", KeyRoles.Agency, CancellationToken.None);
        Assert.True(await keys.RevokeAsync(issued.KeyId, [KeyRoles.Agency], CancellationToken.None));
        var freshness = hub.ApiServices.GetRequiredService<FreshnessStore>();
        Assert.Equal(StatementResult.Recorded, await freshness.AddWaiverAsync("it-audit-events", "2026-01", "đơn vị sáp nhập", "kiểm thử", TimeProvider.System.GetUtcNow(), CancellationToken.None));

        await using var connection = new NpgsqlConnection(hub.ConnectionString);
        var events = (await connection.QueryAsync<(long Seq, string? DatasetId, string Action, string Entry)>(
            "select seq, dataset_id, entry->>'action', entry::text from hub.audit_log where seq > @before and kind = 'event' order by seq", new { before })).ToList();
        Assert.Equal(
            [("it-audit-events", "manual run"), ("it-audit-events", "quarantine replay"), ("it-audit-events", "pause"), ("it-audit-events", "resume"), ("it-audit-events", "reset"), (null, "key issued"), (null, "key revoked"), ("it-audit-events", "waiver")],
            events.Select(e => (e.DatasetId, e.Action)));
        Assert.All(events.Take(5), e => Assert.Contains(signature, e.Entry, StringComparison.Ordinal));
        Assert.Contains(issued.KeyId, events[5].Entry, StringComparison.Ordinal);
        Assert.DoesNotContain(issued.Key, events[5].Entry, StringComparison.Ordinal);
        Assert.True((await Chain.VerifyAsync(CancellationToken.None)).Intact);

        var seq = events[2].Seq;
        await connection.ExecuteAsync("update hub.audit_log set entry = jsonb_set(entry, '{action}', '\"run\"') where seq = @seq", new { seq });
        var altered = await Chain.VerifyAsync(CancellationToken.None);
        Assert.Contains($"entry #{seq} (event of it-audit-events): its content does not match its hash", altered.FirstBroken, StringComparison.Ordinal);
        await connection.ExecuteAsync("update hub.audit_log set entry = jsonb_set(entry, '{action}', '\"pause\"') where seq = @seq", new { seq });
        Assert.True((await Chain.VerifyAsync(CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task An_operator_action_whose_audit_entry_cannot_be_chained_does_not_take_effect()
    {
        QuarantineOneWard("it-audit-atomic");
        Assert.Equal(1L, (await hub.SyncAsync("it-audit-atomic")).Quarantined);
        await FixQuarantinedWardAsync("it-audit-atomic");
        var freshness = hub.ApiServices.GetRequiredService<FreshnessStore>();
        var replay = hub.ApiServices.GetRequiredService<QuarantineReplay>();
        var cursors = hub.ApiServices.GetRequiredService<SyncCursors>();
        var keys = hub.ApiServices.GetRequiredService<ApiKeys>();
        const string cursor = "2026-01-01T00:00:00+07:00";
        await cursors.SetAsync("it-audit-atomic", cursor, "kiểm thử", CancellationToken.None);
        var issued = await keys.IssueAsync("IT-ATOMIC", KeyRoles.Agency, CancellationToken.None);
        await using var connection = new NpgsqlConnection(hub.ConnectionString);

        // The chain refuses the dataset's audit events and those of keys, as if its append failed.
        await connection.ExecuteAsync(
            """
            create function hub.it_refuse_event() returns trigger language plpgsql as $$
            begin
                if new.kind = 'event' and (new.dataset_id = 'it-audit-atomic' or new.entry->>'action' like 'key %') then raise exception 'audit log unavailable'; end if;
                return new;
            end $$;
            create trigger it_refuse_event before insert on hub.audit_log for each row execute function hub.it_refuse_event();
            """);
        try
        {
            await Assert.ThrowsAsync<PostgresException>(() => freshness.AddWaiverAsync("it-audit-atomic", "2026-M01", "lý do", "kiểm thử", TimeProvider.System.GetUtcNow(), CancellationToken.None));
            await Assert.ThrowsAsync<PostgresException>(() => replay.ReplayAsync("it-audit-atomic", "kiểm thử", CancellationToken.None));
            await Assert.ThrowsAsync<PostgresException>(() => cursors.ResetAsync("it-audit-atomic", "kiểm thử", CancellationToken.None));
            await Assert.ThrowsAsync<PostgresException>(() => cursors.SetAsync("it-audit-atomic", "2026-02-01T00:00:00+07:00", "kiểm thử", CancellationToken.None));
            await Assert.ThrowsAsync<PostgresException>(() => keys.IssueAsync("IT-ATOMIC-2", KeyRoles.Agency, CancellationToken.None));
            await Assert.ThrowsAsync<PostgresException>(() => keys.RevokeAsync(issued.KeyId, [KeyRoles.Agency], CancellationToken.None));

            Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from hub.freshness_waivers where dataset_id = 'it-audit-atomic'"));
            Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from hub.quarantine where dataset_id = 'it-audit-atomic' and replayed_run_id is not null"));
            Assert.Equal("failed", await hub.QueryScalarAsync<string>("select status from hub.runs where dataset_id = 'it-audit-atomic' and trigger = 'replay'"));
            Assert.Equal(cursor, await cursors.GetAsync("it-audit-atomic", CancellationToken.None));
            Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from hub.api_keys where holder = 'IT-ATOMIC-2'"));
            Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from hub.api_keys where key_id = @KeyId and revoked_at is not null", new { issued.KeyId }));
        }
        finally
        {
            await connection.ExecuteAsync("drop trigger it_refuse_event on hub.audit_log; drop function hub.it_refuse_event()");
        }

        // Retried once the chain takes entries again: both are recorded, and chained.
        Assert.Equal(StatementResult.Recorded, await freshness.AddWaiverAsync("it-audit-atomic", "2026-M01", "lý do", "kiểm thử", TimeProvider.System.GetUtcNow(), CancellationToken.None));
        var result = await replay.ReplayAsync("it-audit-atomic", "kiểm thử", CancellationToken.None);
        Assert.Equal(1, result!.Passed);
        Assert.Equal("succeeded", (await hub.WaitForRunAsync(result.RunId!.Value)).Status);
        Assert.True(await keys.RevokeAsync(issued.KeyId, [KeyRoles.Agency], CancellationToken.None));
        Assert.Equal(["backfill", "waiver", "quarantine replay"], await connection.QueryAsync<string>("select entry->>'action' from hub.audit_log where dataset_id = 'it-audit-atomic' and kind = 'event' order by seq"));
        Assert.Equal(1L, await hub.QueryScalarAsync<long>("select count(*) from hub.audit_log where kind = 'event' and entry->>'action' = 'key revoked' and entry->'details'->>'keyId' = @KeyId", new { issued.KeyId }));
        Assert.True((await Chain.VerifyAsync(CancellationToken.None)).Intact);
    }

    /// <summary>Serves three wards of which the second has a negative population: a run quarantines it.</summary>
    private void QuarantineOneWard(string dataset)
    {
        var records = TestAgency.Wards(3);
        records[1] = new Dictionary<string, object?> { ["ma_xa"] = "22002", ["ten_xa"] = "Xã âm", ["dan_so"] = -5 };
        TestAgency.Serve(hub.Agency, dataset, records);
    }

    /// <summary>The quarantined ward's record now passes, as it would after a schema fix.</summary>
    private async Task FixQuarantinedWardAsync(string dataset)
    {
        await using var connection = new NpgsqlConnection(hub.ConnectionString);
        await connection.ExecuteAsync(
            "update hub.quarantine set payload = @payload where dataset_id = @dataset and key = '22002'",
            new { dataset, payload = JsonSerializer.Serialize(TestAgency.Ward(2)) });
    }

    [Fact]
    public async Task The_audit_command_prints_the_head_exits_0_when_intact_and_1_with_the_broken_link()
    {
        TestAgency.Serve(hub.Agency, "it-audit-cover", TestAgency.Wards(20));
        await hub.SyncAsync("it-audit-cover");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Hub"] = hub.ConnectionString }).Build();
        var head = await Chain.HeadAsync(CancellationToken.None);

        var (code, output, error) = await AuditAsync(configuration, "verify");
        Assert.True(code == 0, error);
        Assert.Contains("audit chain intact", output, StringComparison.Ordinal);
        Assert.Contains($"head: entry #{head!.Seq} ", output, StringComparison.Ordinal);
        Assert.Contains(head.Hash, (await AuditAsync(configuration, "head")).Output, StringComparison.Ordinal);
        Assert.Equal(0, (await AuditAsync(configuration, "verify", "--anchor", head.Hash)).Code);

        var original = await hub.QueryScalarAsync<int>("select dan_so from open_data.it_audit_cover where _key = '22005' and _version_to is null");
        await hub.QueryScalarAsync<int>("update open_data.it_audit_cover set dan_so = dan_so + 1 where _key = '22005' and _version_to is null; select 1");
        (code, output, error) = await AuditAsync(configuration, "verify");
        Assert.Equal(1, code);
        Assert.Contains("audit chain BROKEN at entry #", error, StringComparison.Ordinal);
        Assert.Contains("(version of it-audit-cover version", error, StringComparison.Ordinal);
        Assert.Contains("were altered after publication", error, StringComparison.Ordinal);
        Assert.DoesNotContain("intact", output, StringComparison.Ordinal);
        await hub.QueryScalarAsync<int>("update open_data.it_audit_cover set dan_so = @original where _key = '22005' and _version_to is null; select 1", new { original });

        var wrongAnchor = await AuditAsync(configuration, "verify", "--anchor", new string('f', 64));
        Assert.Equal(1, wrongAnchor.Code);
        Assert.Contains("anchored head", wrongAnchor.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await AuditAsync(configuration, "verify", "--everything")).Code);
        Assert.Equal(0, (await AuditAsync(configuration, "verify")).Code);
    }

    private static async Task<(int Code, string Output, string Error)> AuditAsync(IConfiguration configuration, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await AuditCommand.RunAsync(args, configuration, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Applies <paramref name="tamper"/>, expects verify to name it, undoes it and expects the chain intact again.</summary>
    private async Task ExpectBrokenAsync(string tamper, string undo, string expected)
    {
        await using var connection = new NpgsqlConnection(hub.ConnectionString);
        await connection.ExecuteAsync(tamper);
        var broken = await Chain.VerifyAsync(CancellationToken.None);
        await connection.ExecuteAsync(undo);
        Assert.False(broken.Intact, $"not noticed: {tamper}");
        Assert.Contains(expected, broken.FirstBroken, StringComparison.Ordinal);
        var again = await Chain.VerifyAsync(CancellationToken.None);
        Assert.True(again.Intact, again.FirstBroken);
    }
}
