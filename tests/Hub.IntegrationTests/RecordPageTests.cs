using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Hub.Api.Datasets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.IntegrationTests;

/// <summary>Records pages served from memory, ETags and 304s: never a page of an older version after a publication.</summary>
[Collection(HubTestGroup.Name)]
public sealed class RecordPageTests(HubFixture hub)
{
    private const string Dataset = "it-record-cache";

    private static void AssertAll(RecordPage page, string suffix) =>
        Assert.All(page.Records, r => Assert.EndsWith(suffix, r.GetProperty("ten_xa").GetString(), StringComparison.Ordinal));

    [Fact]
    public async Task A_page_kept_in_memory_is_never_served_after_a_newer_version_is_published()
    {
        TestAgency.Serve(hub.Agency, Dataset, TestAgency.Wards(30, " v1"));
        Assert.Equal(1L, (await hub.SyncAsync(Dataset)).Version);
        Assert.True(hub.ApiServices.GetRequiredService<DatasetHeads>().Listening);
        const string url = $"/api/datasets/{Dataset}/records?limit=10";
        var first = await hub.Api.GetAsync(url);
        var again = await hub.Api.GetAsync(url);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        var page = await again.Content.ReadFromJsonAsync<RecordPage>();
        Assert.Equal(1L, page!.Version);
        AssertAll(page, " v1");
        var etagOfVersion1 = again.Headers.ETag!;
        Assert.True(again.Headers.CacheControl!.NoCache);

        // The client's copy is still good: 304 without a body.
        var revalidated = await GetAsync(url, etagOfVersion1);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Equal(etagOfVersion1, revalidated.Headers.ETag);
        Assert.Empty(await revalidated.Content.ReadAsByteArrayAsync());

        TestAgency.Serve(hub.Agency, Dataset, TestAgency.Wards(30, " v2"));
        Assert.Equal(2L, (await hub.SyncAsync(Dataset)).Version);

        // Version 2 becomes visible (the publication's notification drops what the API kept); every page read on
        // the way is whole: version 1 with its records or version 2 with its records.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var current = await hub.Api.GetFromJsonAsync<RecordPage>(url);
            AssertAll(current!, current!.Version == 1 ? " v1" : " v2");
            if (current.Version == 2)
            {
                break;
            }

            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "version 2 never became visible");
            await Task.Delay(20);
        }

        // The ETag of version 1 no longer matches the current page.
        var changed = await GetAsync(url, etagOfVersion1);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEqual(etagOfVersion1, changed.Headers.ETag);
        AssertAll((await changed.Content.ReadFromJsonAsync<RecordPage>())!, " v2");

        // Version 1 by number is still version 1, immutable, and revalidates with its ETag.
        var old = await hub.Api.GetAsync($"{url}&version=1");
        var oldPage = await old.Content.ReadFromJsonAsync<RecordPage>();
        Assert.Equal(1L, oldPage!.Version);
        AssertAll(oldPage, " v1");
        Assert.True(old.Headers.CacheControl!.Public);
        Assert.Contains(old.Headers.CacheControl.Extensions, e => e.Name == "immutable");
        Assert.Equal(HttpStatusCode.NotModified, (await GetAsync($"{url}&version=1", old.Headers.ETag!)).StatusCode);

        // Paging through version 1 after version 2 was published stays on version 1.
        var second = await hub.Api.GetFromJsonAsync<RecordPage>($"{url}&version=1&after={oldPage.Next}");
        Assert.Equal(10, second!.Records.Count);
        AssertAll(second, " v1");

        // A version not published yet does not exist: 404, untagged.
        var future = await hub.Api.GetAsync($"{url}&version=99");
        Assert.Equal(HttpStatusCode.NotFound, future.StatusCode);
        Assert.Null(future.Headers.ETag);
    }

    [Fact]
    public async Task The_page_keeps_its_json_shape()
    {
        TestAgency.Serve(hub.Agency, "it-record-shape", TestAgency.Wards(3, string.Empty));
        var run = await hub.SyncAsync("it-record-shape");

        var response = await hub.Api.GetAsync($"/api/datasets/it-record-shape/records?limit=2&version={run.Version}");

        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType.CharSet);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(["datasetId", "version", "records", "next"], document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("it-record-shape", document.RootElement.GetProperty("datasetId").GetString());
        Assert.Equal(run.Version, document.RootElement.GetProperty("version").GetInt64());
        var record = document.RootElement.GetProperty("records")[0];
        Assert.Equal("22001", record.GetProperty("ma_xa").GetString());
        Assert.Equal(JsonValueKind.Number, record.GetProperty("dan_so").ValueKind);
        Assert.False(record.TryGetProperty("_key", out _));
        Assert.False(record.TryGetProperty("_version_from", out _));
        Assert.Equal("22002", document.RootElement.GetProperty("next").GetString());

        var last = await hub.Api.GetStringAsync($"/api/datasets/it-record-shape/records?limit=2&version={run.Version}&after=22002");
        Assert.Contains("\"next\":null", last, StringComparison.Ordinal);
        Assert.Contains("Xã Phước", last, StringComparison.Ordinal); // UTF-8 text, not \u escapes
    }

    [Fact]
    public void A_current_version_read_before_a_notification_is_not_kept()
    {
        var heads = new DatasetHeads(TimeProvider.System, Options.Create(new RecordPageOptions()));
        var head = new DatasetHead("t", 1, 1, null);

        heads.Store("a", head, heads.Generation);
        Assert.False(heads.TryGet("a", out _)); // not listening yet: nothing is kept

        heads.SetListening(true);
        var before = heads.Generation;
        heads.Changed("b"); // a notification lands while "a" is read from PostgreSQL
        heads.Store("a", head, before);
        Assert.False(heads.TryGet("a", out _));

        heads.Store("a", head, heads.Generation);
        Assert.True(heads.TryGet("a", out var kept));
        Assert.Equal(1L, kept.CurrentVersion);

        heads.Changed("a");
        Assert.False(heads.TryGet("a", out _));

        heads.Store("a", head, heads.Generation);
        heads.SetListening(false); // the listener lost its connection: it may miss notifications
        Assert.False(heads.TryGet("a", out _));
    }

    [Fact]
    public async Task A_change_of_the_dataset_row_drops_the_kept_current_version_when_it_commits()
    {
        var heads = new DatasetHeads(TimeProvider.System, Options.Create(new RecordPageOptions { HeadMaxAge = TimeSpan.FromHours(1) }));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Hub"] = hub.ConnectionString }).Build();
        using var listener = new DatasetChangeListener(configuration, heads, TimeProvider.System, NullLogger<DatasetChangeListener>.Instance);
        await listener.StartAsync(CancellationToken.None);
        await Until(() => heads.Listening, "the listener never subscribed");
        heads.Store("it-record-shape", new DatasetHead("it_record_shape", 1, 1, null), heads.Generation);
        Assert.True(heads.TryGet("it-record-shape", out _));

        // A registration change (as a new schema makes) notifies like a publication does.
        await using (var connection = new NpgsqlConnection(hub.ConnectionString))
        {
            await connection.ExecuteAsync("update hub.datasets set updated_at = updated_at + interval '1 second' where id = 'it-record-shape'");
        }

        await Until(() => !heads.TryGet("it-record-shape", out _), "the change was never notified");
        await listener.StopAsync(CancellationToken.None);
        Assert.False(heads.Listening);
    }

    private static async Task Until(Func<bool> condition, string failure)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), failure);
            await Task.Delay(20);
        }
    }

    private async Task<HttpResponseMessage> GetAsync(string url, EntityTagHeaderValue ifNoneMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.IfNoneMatch.Add(ifNoneMatch);
        return await hub.Api.SendAsync(request);
    }
}
