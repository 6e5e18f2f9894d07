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

    [Theory]
    [InlineData("revision=10001", "revision")]
    public async Task An_unsupported_revision_is_a_400_that_names_it(string query, string named)
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
