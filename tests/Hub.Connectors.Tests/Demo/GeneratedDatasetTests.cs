using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace Hub.Connectors.Tests.Demo;

/// <summary>The demo agency's generated dataset: revision dates, and what changed since a time (<c>updated_since</c>), with deletions as tombstones.</summary>
public sealed class GeneratedDatasetTests : IAsyncLifetime, IDisposable
{
    private const int Count = 10_000;
    private const string Dataset = "/api/generated/hoso";

    // Just after the latest possible revision-0 date, as the agency's README documents it.
    private static readonly DateTimeOffset Horizon = new(2025, 9, 29, 0, 0, 0, TimeSpan.FromHours(7));

    private static readonly string[] TombstoneFields = ["id", "ngay_cap_nhat", "da_xoa"];

    private DemoAgencyProcess? agency;
    private HttpClient? client;

    private HttpClient Client => client ?? throw new InvalidOperationException("the agency is not started");

    public async Task InitializeAsync()
    {
        agency = await DemoAgencyProcess.StartAsync();
        client = new HttpClient { BaseAddress = agency.Url };
    }

    public async Task DisposeAsync()
    {
        if (agency is not null)
        {
            await agency.DisposeAsync();
        }
    }

    public void Dispose() => client?.Dispose();

    [Fact]
    public async Task Revision_1_dates_its_changed_and_added_records_after_every_revision_0_date_and_keeps_the_others_byte_for_byte()
    {
        var (revision0, revision1, expected) = await FullListsAsync();
        var last0 = revision0.Max(UpdatedAt);

        var fresh = Fresh(revision0, revision1);
        Assert.Equal(expected.GetProperty("changed").GetInt32() + expected.GetProperty("added").GetInt32(), fresh.Count);
        Assert.All(fresh, r => Assert.True(UpdatedAt(r) > last0, $"{r} is not after {last0:O}"));
        Assert.True(last0 < Horizon);
        Assert.Equal(Count - expected.GetProperty("deleted").GetInt32(), revision1.Count - expected.GetProperty("added").GetInt32());
    }

    [Fact]
    public async Task Revision_1_since_the_last_revision_0_update_is_its_changes_and_additions_the_last_revision_0_records_and_a_tombstone_per_deletion()
    {
        var (revision0, revision1, expected) = await FullListsAsync();
        var last0 = revision0.Max(UpdatedAt);
        var fresh = Fresh(revision0, revision1);
        var deleted = revision0.Select(Id).Except(revision1.Select(Id)).Order().ToList();
        Assert.Equal(expected.GetProperty("deleted").GetInt32(), deleted.Count);
        Assert.All(revision1, r => Assert.False(r.TryGetProperty("da_xoa", out _)));

        var since = await ReadAllAsync($"{Dataset}?count={Count}&revision=1&updated_since={Since(last0)}", pageSize: 37);

        // The records whose date is at or after the last revision-0 date, as the full list writes them: the changed and
        // added ones, and the last revision-0 record(s), which revision 1 kept unchanged.
        var records = since.Where(r => !r.TryGetProperty("da_xoa", out _)).ToList();
        var lastOfRevision0 = revision1.Where(r => UpdatedAt(r) == last0).Select(r => r.GetRawText()).ToList();
        Assert.NotEmpty(lastOfRevision0);
        Assert.Equal(
            fresh.Select(r => r.GetRawText()).Concat(lastOfRevision0).Order(StringComparer.Ordinal),
            records.Select(r => r.GetRawText()).Order(StringComparer.Ordinal));

        // One tombstone per deleted record, dated after revision 0, and nothing else in it.
        var tombstones = since.Where(r => r.TryGetProperty("da_xoa", out _)).ToList();
        Assert.Equal(deleted, tombstones.Select(Id));
        Assert.All(tombstones, t =>
        {
            Assert.True(t.GetProperty("da_xoa").GetBoolean());
            Assert.True(UpdatedAt(t) > last0);
            Assert.Equal(TombstoneFields, t.EnumerateObject().Select(p => p.Name));
        });

        // The whole list in id order.
        Assert.Equal(since.Select(Id).Order(), since.Select(Id));
    }

    [Fact]
    public async Task Paging_through_the_list_since_a_time_with_either_paging_style_gives_the_same_entries()
    {
        var all = await ReadAllAsync($"{Dataset}?count={Count}&revision=1", pageSize: 5000);
        var middle = all.Select(UpdatedAt).Where(d => d > Horizon).Order().ElementAt(50);

        // Without an offset the time is Vietnam time; Z is UTC.
        var local = middle.ToOffset(TimeSpan.FromHours(7)).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        var utc = middle.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var byOffset = await ReadAllAsync($"{Dataset}?count={Count}&revision=1&updated_since={local}", pageSize: 13);
        var byPage = await ReadAllAsync($"{Dataset}?count={Count}&revision=1&updated_since={utc}", pageSize: 40, pageStyle: true);

        Assert.Equal(byOffset.Select(r => r.GetRawText()), byPage.Select(r => r.GetRawText()));
        Assert.NotEmpty(byOffset);
        Assert.Equal(all.Where(r => UpdatedAt(r) >= middle).Select(Id), byOffset.Where(r => !r.TryGetProperty("da_xoa", out _)).Select(Id));
        Assert.Contains(byOffset, r => r.TryGetProperty("da_xoa", out _));
        Assert.All(byOffset, r => Assert.True(UpdatedAt(r) >= middle));
    }

    [Fact]
    public async Task Every_nth_entry_of_the_list_since_a_time_is_broken_by_the_bad_record_fault_tombstones_included()
    {
        var url = $"{Dataset}?count={Count}&revision=1&updated_since={Since(Horizon)}&limit=10000";
        (await Client.PostAsJsonAsync(new Uri("/admin/faults", UriKind.Relative), new { path = "/api/generated", badRecordEvery = 3, times = 1 })).EnsureSuccessStatusCode();
        var broken = (await Client.GetFromJsonAsync<JsonElement>(new Uri(url, UriKind.Relative))).GetProperty("data").EnumerateArray().ToList();
        var intact = (await Client.GetFromJsonAsync<JsonElement>(new Uri(url, UriKind.Relative))).GetProperty("data").EnumerateArray().ToList();

        Assert.Equal(intact.Count, broken.Count);
        var brokenTombstones = 0;
        for (var position = 0; position < intact.Count; position++)
        {
            var isTombstone = intact[position].TryGetProperty("da_xoa", out _);
            if ((position + 1) % 3 != 0)
            {
                Assert.Equal(intact[position].GetRawText(), broken[position].GetRawText());
            }
            else if (isTombstone)
            {
                Assert.False(broken[position].TryGetProperty("id", out _));
                Assert.True(broken[position].GetProperty("da_xoa").GetBoolean());
                brokenTombstones++;
            }
            else
            {
                Assert.False(broken[position].TryGetProperty("ma_ho_so", out _));
            }
        }

        Assert.True(brokenTombstones > 0);
    }

    [Theory]
    [InlineData("updated_since=yesterday", "updated_since")]
    [InlineData("updated_since=2025-13-01T00:00:00", "updated_since")]
    [InlineData("updated_since=2025-09-28", "updated_since")]
    [InlineData("updated_since=2025-09-28T16:59:59%2B07:00&updated_since=2025-09-28T16:59:59", "updated_since")]
    [InlineData("updated_since=2025-09-28T16:59:59&count=20000000", "count")]
    [InlineData("revision=10001", "revision")]
    public async Task A_malformed_updated_since_or_an_unsupported_count_or_revision_is_a_400_that_names_it(string query, string named)
    {
        using var response = await Client.GetAsync(new Uri($"{Dataset}?{query}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(named, body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revision_0_page_is_byte_for_byte_what_the_agency_wrote_before_revisions_had_date_windows()
    {
        // SHA-256 of this page as the agency answered it at commit 84dd4ce, before revision date windows and updated_since.
        var bytes = await Client.GetByteArrayAsync(new Uri($"{Dataset}?count={Count}&revision=0&offset=0&limit=10000", UriKind.Relative));

        Assert.Equal("3e9be3fff95a0e9d13b04e8d801b925f335580ae098c517e79af63f729b4ef4b", Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    // The records of revision 1 that are not in revision 0 as they are: the changed and the added ones.
    private static List<JsonElement> Fresh(List<JsonElement> revision0, List<JsonElement> revision1)
    {
        var byId0 = revision0.ToDictionary(Id, r => r.GetRawText());
        return [.. revision1.Where(r => !byId0.TryGetValue(Id(r), out var before) || before != r.GetRawText())];
    }

    private async Task<(List<JsonElement> Revision0, List<JsonElement> Revision1, JsonElement Expected)> FullListsAsync() =>
        (await ReadAllAsync($"{Dataset}?count={Count}&revision=0", pageSize: 2500),
         await ReadAllAsync($"{Dataset}?count={Count}&revision=1", pageSize: 3000),
         await Client.GetFromJsonAsync<JsonElement>(new Uri($"{Dataset}/expected?count={Count}&revision=1", UriKind.Relative)));

    private static long Id(JsonElement record) => record.GetProperty("id").GetInt64();

    private static DateTimeOffset UpdatedAt(JsonElement record) => record.GetProperty("ngay_cap_nhat").GetDateTimeOffset();

    private static string Since(DateTimeOffset instant) =>
        Uri.EscapeDataString(instant.ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture));

    private async Task<List<JsonElement>> ReadAllAsync(string url, int pageSize, bool pageStyle = false)
    {
        var records = new List<JsonElement>();
        for (var page = 0; ; page++)
        {
            var window = pageStyle ? $"page={page + 1}&page_size={pageSize}" : $"offset={page * pageSize}&limit={pageSize}";
            var body = await Client.GetFromJsonAsync<JsonElement>(new Uri($"{url}&{window}", UriKind.Relative));
            var data = body.GetProperty("data").EnumerateArray().ToList();
            records.AddRange(data);
            if (data.Count < pageSize)
            {
                Assert.Equal(body.GetProperty("total").GetInt32(), records.Count);
                return records;
            }
        }
    }
}
