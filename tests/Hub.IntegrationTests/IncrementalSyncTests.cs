using System.Net;
using System.Net.Http.Json;
using Hub.Api.Runs;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class IncrementalSyncTests(HubFixture hub)
{
    private static List<object> Wards(IEnumerable<int> numbers, string updated, string suffix = "") =>
        numbers.Select(i =>
        {
            var ward = TestAgency.Ward(i, suffix);
            ward["cap_nhat"] = updated;
            return (object)ward;
        }).ToList();

    private Task<string> ModeAsync(Guid runId) => hub.QueryScalarAsync<string>("select mode from hub.runs where id = @runId", new { runId });

    private async Task<string> RequestUrlAsync(Guid runId) =>
        Uri.UnescapeDataString((await hub.OperatorApi.GetFromJsonAsync<RunDetail>($"/api/runs/{runId}"))!.Requests[0].Url);

    private async Task<string?> CursorAsync(string dataset)
    {
        await using var connection = new Npgsql.NpgsqlConnection(hub.ConnectionString);
        return await Dapper.SqlMapper.ExecuteScalarAsync<string?>(connection, "select cursor from hub.sync_cursors where dataset_id = @dataset", new { dataset });
    }

    [Fact]
    public async Task The_first_run_is_full_the_next_asks_since_the_cursor_minus_the_lookback_and_reset_and_backfill_move_the_cursor()
    {
        TestAgency.Serve(hub.Agency, "it-incremental-b", Wards(Enumerable.Range(1, 3), "2025-02-01T10:00:00+07:00"));
        Assert.Equal("succeeded", (await hub.SyncAsync("it-incremental-b")).Status);
        TestAgency.Serve(hub.Agency, "it-incremental", Wards(Enumerable.Range(1, 10), "2025-03-01T08:00:00+07:00"));

        var first = await hub.SyncAsync("it-incremental");

        Assert.Equal(("succeeded", 10L), (first.Status, first.Inserted));
        Assert.Equal("full", await ModeAsync(first.Id));
        Assert.DoesNotContain("updated_since", await RequestUrlAsync(first.Id), StringComparison.Ordinal);
        Assert.Equal("2025-03-01T08:00:00+07:00", await CursorAsync("it-incremental"));

        // The agency now answers only the two records changed since; the other eight are not deleted.
        TestAgency.Serve(hub.Agency, "it-incremental", Wards([1, 2], "2025-03-02T09:30:00+07:00", " (đổi tên)"));
        var second = await hub.SyncAsync("it-incremental");

        Assert.Equal(("succeeded", 0L, 2L, 0L), (second.Status, second.Inserted, second.Updated, second.Deleted));
        Assert.Equal("partial", await ModeAsync(second.Id));
        Assert.Contains("updated_since=2025-03-01T07:00:00+07:00", await RequestUrlAsync(second.Id), StringComparison.Ordinal);
        Assert.Equal("2025-03-02T09:30:00+07:00", await CursorAsync("it-incremental"));
        Assert.Equal(10L, await hub.QueryScalarAsync<long>("select row_count from hub.datasets where id = 'it-incremental'"));

        // A failed run leaves the cursor where it was.
        TestAgency.Fail(hub.Agency, "it-incremental", 200, "<html>bảo trì</html>");
        Assert.Equal("failed", (await hub.SyncAsync("it-incremental")).Status);
        Assert.Equal("2025-03-02T09:30:00+07:00", await CursorAsync("it-incremental"));

        // Backfill: the next run asks from the given point (minus the look-back).
        Assert.Equal(HttpStatusCode.NoContent, (await hub.OperatorApi.PostAsync("/api/connectors/it-incremental/backfill?from=2025-01-01T00:00:00%2B07:00", null)).StatusCode);
        TestAgency.Serve(hub.Agency, "it-incremental", Wards([1, 2], "2025-03-02T09:30:00+07:00", " (đổi tên)"));
        var backfill = await hub.SyncAsync("it-incremental");
        Assert.Equal(("succeeded", "partial"), (backfill.Status, await ModeAsync(backfill.Id)));
        Assert.Contains("updated_since=2024-12-31T23:00:00+07:00", await RequestUrlAsync(backfill.Id), StringComparison.Ordinal);

        // Reset: the next run is a full refresh again, and another dataset's cursor is untouched.
        Assert.Equal(HttpStatusCode.NoContent, (await hub.OperatorApi.PostAsync("/api/connectors/it-incremental/reset", null)).StatusCode);
        Assert.Null(await CursorAsync("it-incremental"));
        Assert.Equal("2025-02-01T10:00:00+07:00", await CursorAsync("it-incremental-b"));
        var full = await hub.SyncAsync("it-incremental");
        Assert.Equal(("succeeded", "full", 8L), (full.Status, await ModeAsync(full.Id), full.Deleted));
        Assert.DoesNotContain("updated_since", await RequestUrlAsync(full.Id), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Conflict, (await hub.OperatorApi.PostAsync("/api/connectors/it-wards/backfill?from=2025-01-01", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await hub.OperatorApi.PostAsync("/api/connectors/it-incremental/backfill", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.OperatorApi.PostAsync("/api/connectors/nope/reset", null)).StatusCode);
    }

    [Fact]
    public async Task An_incremental_run_deletes_the_records_the_agency_marks_deleted_and_only_those()
    {
        TestAgency.Serve(hub.Agency, "it-incremental-del", Wards(Enumerable.Range(1, 5), "2025-03-01T08:00:00+07:00"));
        var first = await hub.SyncAsync("it-incremental-del");
        Assert.Equal(("succeeded", 5L), (first.Status, first.Inserted));

        // Changed since: ward 1 renamed, ward 2 deleted, ward 6 added, and a deletion of a key never published.
        var changes = Wards([1, 6], "2025-03-02T09:00:00+07:00", " (đổi tên)");
        changes.Add(new Dictionary<string, object?> { ["ma_xa"] = "22002", ["cap_nhat"] = "2025-03-02T10:00:00+07:00", ["xoa"] = true });
        changes.Add(new Dictionary<string, object?> { ["ma_xa"] = "22099", ["cap_nhat"] = "2025-03-02T08:00:00+07:00", ["xoa"] = true });
        TestAgency.Serve(hub.Agency, "it-incremental-del", changes);
        var second = await hub.SyncAsync("it-incremental-del");

        Assert.Equal(("succeeded", 1L, 1L, 1L, 1L, 0L), (second.Status, second.Inserted, second.Updated, second.Deleted, second.Unchanged, second.Quarantined));
        Assert.Equal((4L, 1L), (second.Valid, second.MarkedDeleted));
        Assert.Equal("partial", await ModeAsync(second.Id));
        Assert.Equal("2025-03-02T10:00:00+07:00", await CursorAsync("it-incremental-del")); // the deletion is the latest change
        Assert.Equal(["22001", "22003", "22004", "22005", "22006"],
            await hub.QueryAsync<string>("select _key from open_data.it_incremental_del where _version_to is null order by _key"));
        Assert.Equal(5L, await hub.QueryScalarAsync<long>("select row_count from hub.datasets where id = 'it-incremental-del'"));
        // The deleted row ends with the version, as in a full refresh: its history keeps it.
        Assert.Equal(second.Version, await hub.QueryScalarAsync<long?>("select _version_to from open_data.it_incremental_del where _key = '22002'"));

        // A full run deletes what it marks deleted and what it no longer lists; ward 5 is changed, then deleted, in the
        // same listing: the last record of a key wins.
        Assert.Equal(HttpStatusCode.NoContent, (await hub.OperatorApi.PostAsync("/api/connectors/it-incremental-del/reset", null)).StatusCode);
        var listing = Wards([1, 6], "2025-03-02T09:00:00+07:00", " (đổi tên)");
        listing.AddRange(Wards([3], "2025-03-01T08:00:00+07:00"));
        listing.AddRange(Wards([5], "2025-03-03T08:00:00+07:00", " (mới)"));
        listing.Add(new Dictionary<string, object?> { ["ma_xa"] = "22005", ["cap_nhat"] = "2025-03-03T09:00:00+07:00", ["xoa"] = true });
        TestAgency.Serve(hub.Agency, "it-incremental-del", listing);
        var full = await hub.SyncAsync("it-incremental-del");

        Assert.Equal(("succeeded", "full"), (full.Status, await ModeAsync(full.Id)));
        Assert.Equal((0L, 0L, 2L, 3L, 1L), (full.Inserted, full.Updated, full.Deleted, full.Unchanged, full.Duplicates));
        Assert.Equal((5L, 1L), (full.Valid, full.MarkedDeleted)); // 22004, no longer listed, is the other deletion
        Assert.Equal(["22001", "22003", "22006"],
            await hub.QueryAsync<string>("select _key from open_data.it_incremental_del where _version_to is null order by _key"));

        // A full listing of nothing but deletions would end every row: it fails, as an empty one does.
        Assert.Equal(HttpStatusCode.NoContent, (await hub.OperatorApi.PostAsync("/api/connectors/it-incremental-del/reset", null)).StatusCode);
        string[] published = ["22001", "22003", "22006"];
        TestAgency.Serve(hub.Agency, "it-incremental-del", published.Select(key => (object)new Dictionary<string, object?> { ["ma_xa"] = key, ["xoa"] = true }).ToList());
        var refused = await hub.SyncAsync("it-incremental-del");

        Assert.Equal("failed", refused.Status);
        Assert.Contains("only records marked deleted (3)", refused.Error, StringComparison.Ordinal);
        Assert.Equal(3L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_incremental_del where _version_to is null"));
    }
}
