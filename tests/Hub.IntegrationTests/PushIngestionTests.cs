using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hub.Api.Runs;
using Hub.Worker.Cli;
using Hub.Worker.Ingest;
using Microsoft.Extensions.Configuration;

namespace Hub.IntegrationTests;

[Collection(HubTestGroup.Name)]
public sealed class PushIngestionTests(HubFixture hub)
{
    private static readonly JsonSerializerOptions AgencyJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Runs <c>hub agencies ARGS</c> against the test database and returns its output.</summary>
    private async Task<(int Code, string Output, string Error)> AgenciesAsync(params string[] args)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Hub"] = hub.ConnectionString }).Build();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await AgenciesCommand.RunAsync(args, configuration, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private async Task<(string KeyId, string Key)> IssueKeyAsync(string agency)
    {
        var (code, output, _) = await AgenciesAsync("issue-key", agency);
        Assert.Equal(0, code);
        string Field(string name) => output.Split('\n').Single(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();
        return (Field("key id"), Field("key"));
    }

    private async Task<HttpResponseMessage> PushAsync(string dataset, string? key, string body, string contentType = "application/json", string? idempotencyKey = null, bool bearer = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/ingest/{dataset}") { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (key is not null)
        {
            if (bearer)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }
            else
            {
                request.Headers.Add("X-Api-Key", key);
            }
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await hub.Api.SendAsync(request);
    }

    private static string Json(IEnumerable<object> records) => JsonSerializer.Serialize(records, AgencyJson);

    private static string Ndjson(IEnumerable<object> records) => string.Join('\n', records.Select(r => JsonSerializer.Serialize(r, AgencyJson))) + "\n";

    private Task<long> RunCountAsync(string dataset) => hub.QueryScalarAsync<long>("select count(*) from hub.runs where dataset_id = @dataset", new { dataset });

    [Fact]
    public async Task A_push_deletes_the_records_it_marks_deleted_and_quarantines_a_deletion_without_its_key()
    {
        var (_, key) = await IssueKeyAsync("TEST");
        var pushed = await (await PushAsync("it-push-delete", key, Json(TestAgency.Wards(3)))).Content.ReadFromJsonAsync<PushResult>();
        Assert.Equal("succeeded", (await hub.WaitForRunAsync(pushed!.RunId)).Status);

        var deletions = new Dictionary<string, object?>[] { new() { ["ma_xa"] = "22002", ["xoa"] = true }, new() { ["ten_xa"] = "Không mã", ["xoa"] = true } };
        var response = await PushAsync("it-push-delete", key, Json(deletions));

        var answer = await response.Content.ReadFromJsonAsync<PushResult>();
        Assert.Equal((1L, 1L), (answer!.Accepted, answer.Quarantined));
        var run = await hub.WaitForRunAsync(answer.RunId);
        Assert.Equal(("succeeded", 0L, 0L, 1L, 1L), (run.Status, run.Inserted, run.Updated, run.Deleted, run.MarkedDeleted));
        Assert.Equal(["22001", "22003"], await hub.QueryAsync<string>("select _key from open_data.it_push_delete where _version_to is null order by _key"));
    }

    [Fact]
    public async Task An_agency_pushes_json_and_ndjson_through_the_checker_and_writer_as_partial_runs_that_never_duplicate_a_row()
    {
        var (_, key) = await IssueKeyAsync("TEST");
        var bad = new Dictionary<string, object?> { ["ma_xa"] = "12", ["ten_xa"] = "Sai mã", ["dan_so"] = -1 };
        var body = Json([.. Enumerable.Range(1, 10).Select(i => (object)TestAgency.Ward(i)), bad]);

        var response = await PushAsync("it-push", key, body);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<PushResult>();
        Assert.Equal((10L, 1L), (answer!.Accepted, answer.Quarantined));
        Assert.Equal($"/api/runs/{answer.RunId}", response.Headers.Location!.ToString());
        var run = await hub.WaitForRunAsync(answer.RunId);
        Assert.Equal(("push", "succeeded", 11L, 10L, 1L, 10L), (run.Trigger, run.Status, run.Fetched!.Value, run.Valid, run.Quarantined, run.Inserted));
        Assert.Equal("partial", await hub.QueryScalarAsync<string>("select mode from hub.runs where id = @id", new { id = answer.RunId }));
        var detail = await hub.OperatorApi.GetFromJsonAsync<RunDetail>($"/api/runs/{answer.RunId}");
        var request = Assert.Single(detail!.Requests);
        Assert.Equal(("/api/ingest/it-push", 202, 11), (request.Url, request.StatusCode, request.RecordCount));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body))), request.PayloadSha256);
        Assert.Equal(body, Encoding.UTF8.GetString(await hub.QueryScalarAsync<byte[]>("select body from hub.payloads where sha256 = @sha", new { sha = request.PayloadSha256 })));
        Assert.Single(detail.Quarantined);

        // NDJSON with X-Api-Key: two records changed, one new, the other eight absent: nothing is deleted.
        var ndjson = Ndjson([TestAgency.Ward(1, " (mới)"), TestAgency.Ward(2, " (mới)"), TestAgency.Ward(11)]);
        response = await PushAsync("it-push", key, ndjson, "application/x-ndjson", bearer: false);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        run = await hub.WaitForRunAsync((await response.Content.ReadFromJsonAsync<PushResult>())!.RunId);
        Assert.Equal(("succeeded", 1L, 2L, 0L), (run.Status, run.Inserted, run.Updated, run.Deleted));
        Assert.Equal(11L, await hub.QueryScalarAsync<long>("select row_count from hub.datasets where id = 'it-push'"));

        // The same push again without an Idempotency-Key: a new run, but no row is duplicated or changed.
        response = await PushAsync("it-push", key, ndjson, "application/x-ndjson");
        run = await hub.WaitForRunAsync((await response.Content.ReadFromJsonAsync<PushResult>())!.RunId);
        Assert.Equal(("succeeded", 0L, 0L, 0L, 3L, (long?)null), (run.Status, run.Inserted, run.Updated, run.Deleted, run.Unchanged, run.Version));
        Assert.Equal(11L, await hub.QueryScalarAsync<long>("select count(*) from open_data.it_push where _version_to is null"));
        Assert.Equal(11L, await hub.QueryScalarAsync<long>("select count(distinct _key) from open_data.it_push where _version_to is null"));
    }

    [Fact]
    public async Task A_repeated_push_with_the_same_idempotency_key_returns_the_first_answer_and_publishes_nothing()
    {
        var (_, key) = await IssueKeyAsync("TEST");
        var body = Json(Enumerable.Range(1, 5).Select(i => (object)TestAgency.Ward(i)));

        var first = await PushAsync("it-push-idem", key, body, idempotencyKey: "lo-2025-03-01");
        var firstAnswer = (await first.Content.ReadFromJsonAsync<PushResult>())!;
        await hub.WaitForRunAsync(firstAnswer.RunId);
        var second = await PushAsync("it-push-idem", key, Json([TestAgency.Ward(99)]), idempotencyKey: "lo-2025-03-01");

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        var secondAnswer = (await second.Content.ReadFromJsonAsync<PushResult>())!;
        Assert.Equal((firstAnswer.RunId, 5L, 0L, true), (secondAnswer.RunId, secondAnswer.Accepted, secondAnswer.Quarantined, secondAnswer.Repeated));
        Assert.Equal(1L, await RunCountAsync("it-push-idem"));
        Assert.Equal(5L, await hub.QueryScalarAsync<long>("select row_count from hub.datasets where id = 'it-push-idem'"));

        // Another key is another push.
        var third = await PushAsync("it-push-idem", key, Json([TestAgency.Ward(6)]), idempotencyKey: "lo-2025-03-02");
        Assert.Equal(HttpStatusCode.Accepted, third.StatusCode);
        Assert.Equal(2L, await RunCountAsync("it-push-idem"));
    }

    [Fact]
    public async Task Pushes_without_a_valid_key_of_the_datasets_agency_or_too_large_are_refused_and_touch_nothing()
    {
        var (testKeyId, testKey) = await IssueKeyAsync("TEST");
        var (_, otherKey) = await IssueKeyAsync("OTHER");
        var body = Json([TestAgency.Ward(1)]);

        var missing = await PushAsync("it-push-auth", null, body);
        var invalid = await PushAsync("it-push-auth", "nthub_000000000000_not-a-key", body);
        var forbidden = await PushAsync("it-push-auth", otherKey, body);
        var tooLarge = await PushAsync("it-push-auth", testKey, "[" + new string(' ', 50 * 1024 * 1024) + "]");
        var notJson = await PushAsync("it-push-auth", testKey, "{\"ma_xa\": ");
        var wrongType = await PushAsync("it-push-auth", testKey, body, "text/csv");
        var unknown = await PushAsync("it-push-nope", testKey, body);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", tooLarge.Content.Headers.ContentType!.MediaType);
        Assert.Contains("Ingest:MaxBodyBytes", (await tooLarge.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("OTHER", (await forbidden.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0L, await RunCountAsync("it-push-auth"));

        // Keys are stored hashed only; a revoked key stops working; keys never reach the logs.
        Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from hub.api_keys where key_sha256 = @testKey or key_id = @testKey", new { testKey }));
        Assert.Equal(HttpStatusCode.Accepted, (await PushAsync("it-push-auth", testKey, body)).StatusCode);
        var (code, output, _) = await AgenciesAsync("revoke-key", testKeyId);
        Assert.Equal(0, code);
        Assert.Contains("revoked", output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PushAsync("it-push-auth", testKey, body)).StatusCode);
        Assert.Equal(1, (await AgenciesAsync("revoke-key", testKeyId)).Code);
        Assert.DoesNotContain(hub.Logs.Lines, l => l.Contains(testKey, StringComparison.Ordinal) || l.Contains(otherKey, StringComparison.Ordinal));
        Assert.DoesNotContain(testKey, (await AgenciesAsync("keys", "TEST")).Output, StringComparison.Ordinal);
    }
}
