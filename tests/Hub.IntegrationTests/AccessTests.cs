using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hub.Api.Access;
using Hub.Api.Quarantine;
using Hub.Api.Runs;
using Hub.IntegrationTests.Freshness;
using Hub.Worker.Access;
using Hub.Worker.Cli;
using Microsoft.Extensions.Configuration;

namespace Hub.IntegrationTests;

/// <summary>
/// Who may call what: raw data for auditors (and operators), connector actions, replays and waivers for operators,
/// "no change" confirmations for the dataset's own agency; everything else stays public.
/// </summary>
[Collection(HubTestGroup.Name)]
public sealed class AccessTests(HubFixture hub)
{
    private const string Sha = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>Every protected endpoint, with the policy it needs.</summary>
    public static TheoryData<string, string, string> Protected => new()
    {
        { "GET", $"/api/payloads/{Sha}", "auditor" },
        { "GET", "/api/quarantine", "auditor" },
        { "GET", $"/api/runs/{Guid.Empty}", "auditor-or-agency" },
        { "POST", "/api/quarantine/replay?dataset=it-wards", "operator" },
        { "POST", "/api/connectors/it-wards/run", "operator" },
        { "POST", "/api/connectors/it-wards/pause", "operator" },
        { "POST", "/api/connectors/it-wards/resume", "operator" },
        { "POST", "/api/connectors/it-wards/reset", "operator" },
        { "POST", "/api/connectors/it-wards/backfill?from=1", "operator" },
        { "POST", "/api/freshness/waivers", "operator" },
        { "POST", "/api/freshness/confirmations", "agency" },
        { "POST", "/api/ingest/it-wards", "agency" },
    };

    [Theory]
    [MemberData(nameof(Protected))]
    public async Task A_protected_endpoint_answers_401_with_a_challenge_without_a_key_or_with_an_unknown_one(string method, string path, string policy)
    {
        foreach (var client in new[] { hub.Api, hub.ApiWithKey("nthub_000000000000_not-a-key") })
        {
            var response = await SendAsync(client, method, path);

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            var detail = await DetailAsync(response);
            Assert.Contains("Authorization: Bearer <key>", detail, StringComparison.Ordinal);
            Assert.Contains(AccessPolicies.Describe(policy), detail, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Protected))]
    public async Task A_key_of_the_wrong_role_gets_403_naming_the_key_needed(string method, string path, string policy)
    {
        var role = policy switch
        {
            "operator" => KeyRoles.Auditor,
            "auditor" => KeyRoles.Agency,
            "agency" => KeyRoles.Operator,
            _ => null,
        };
        if (role is null)
        {
            return; // auditor-or-agency admits every role; the agency check is below
        }

        var client = hub.ApiWithKey((await hub.IssueKeyAsync("it-wrong-" + role, role)).Key);

        var response = await SendAsync(client, method, path);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains($"role '{role}'", await DetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_data_reads_stay_anonymous()
    {
        foreach (var path in new[]
                 {
                     "/api/datasets", "/api/runs", "/api/connectors", "/api/freshness", "/api/freshness/connectors", "/api/freshness/events",
                     "/api/reports/quarterly/2026/Q3", "/health", "/openapi/v1.json",
                 })
        {
            Assert.Equal(HttpStatusCode.OK, (await hub.Api.GetAsync(path)).StatusCode);
        }

        // Not found, but not refused: lineage (with its payload hashes) is public.
        Assert.Equal(HttpStatusCode.NotFound, (await hub.Api.GetAsync("/api/lineage/it-access-none/1")).StatusCode);
    }

    [Fact]
    public async Task Raw_data_is_readable_with_an_auditor_key_and_an_operator_key()
    {
        var seed = new FreshnessSeed(hub.ConnectionString);
        await seed.DatasetAsync("it-access-raw", "RAW", "monthly", "2026-01-01 00:00");
        var runId = await seed.RunAsync("it-access-raw", "2026-02-01 08:00", valid: 0, quarantined: 1);
        var sha = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()).PadRight(64, '0');
        await seed.ExecuteAsync(
            """
            insert into hub.payloads (sha256, body, stored_at) values (@sha, convert_to('{"ho_ten":"Nguyễn Văn A"}', 'UTF8'), now());
            insert into hub.quarantine (run_id, dataset_id, sequence, key, payload, errors, schema_version, created_at)
            values (@runId, 'it-access-raw', 0, '1', '{"ho_ten":"Nguyễn Văn A"}', '["bad"]', 1, now());
            """, new { sha, runId });
        var auditor = hub.ApiWithKey((await hub.IssueKeyAsync("it-auditor", KeyRoles.Auditor)).Key);

        foreach (var client in new[] { auditor, hub.OperatorApi })
        {
            Assert.Contains("Nguyễn Văn A", await client.GetStringAsync($"/api/payloads/{sha}"), StringComparison.Ordinal);
            var quarantined = await client.GetFromJsonAsync<List<QuarantinedRecord>>("/api/quarantine?dataset=it-access-raw");
            Assert.Contains("Nguyễn Văn A", Assert.Single(quarantined!).Payload, StringComparison.Ordinal);
            var run = await client.GetFromJsonAsync<RunDetail>($"/api/runs/{runId}");
            Assert.Contains("Nguyễn Văn A", Assert.Single(run!.Quarantined).Payload, StringComparison.Ordinal);
        }

        // The agency of the run's dataset reads its own run (a push's Location); another agency may not.
        var own = hub.ApiWithKey((await hub.IssueKeyAsync("RAW", KeyRoles.Agency)).Key);
        var other = hub.ApiWithKey((await hub.IssueKeyAsync("RAW-OTHER", KeyRoles.Agency)).Key);
        Assert.Equal(HttpStatusCode.OK, (await own.GetAsync($"/api/runs/{runId}")).StatusCode);
        var refused = await other.GetAsync($"/api/runs/{runId}");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("RAW-OTHER", await DetailAsync(refused), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await own.GetAsync($"/api/payloads/{sha}")).StatusCode);

        // A dataset withdrawn from publication (reclassified secret) is still its agency's: it reads its runs.
        await hub.QueryScalarAsync<int>("update hub.datasets set withdrawn_reason = 'classified secret (test)' where id = 'it-access-raw'; select 1");
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await own.GetAsync($"/api/runs/{runId}")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await other.GetAsync($"/api/runs/{runId}")).StatusCode);
        }
        finally
        {
            await hub.QueryScalarAsync<int>("update hub.datasets set withdrawn_reason = null where id = 'it-access-raw'; select 1");
        }
    }

    [Fact]
    public async Task An_operator_key_runs_the_connector_actions()
    {
        // Past the policy, to the endpoint itself (which knows no such dataset).
        Assert.Equal(HttpStatusCode.NotFound, (await hub.OperatorApi.PostAsync("/api/connectors/it-access-none/reset", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.OperatorApi.PostAsync("/api/connectors/it-access-none/run", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.OperatorApi.PostAsync("/api/quarantine/replay?dataset=it-access-none", null)).StatusCode);
    }

    [Fact]
    public async Task An_agency_confirms_only_its_own_datasets_and_the_confirmation_names_its_key()
    {
        var seed = new FreshnessSeed(hub.ConnectionString);
        await seed.DatasetAsync("it-access-own", "OWN", "monthly", "2025-11-15 10:00");
        var key = await hub.IssueKeyAsync("OWN", KeyRoles.Agency);
        var own = hub.ApiWithKey(key.Key);
        var other = hub.ApiWithKey((await hub.IssueKeyAsync("NOT-OWN", KeyRoles.Agency)).Key);
        var body = new { dataset = "it-access-own", period = "2026-M01", reason = "Không đổi", by = "someone else" };

        var refused = await other.PostAsJsonAsync("/api/freshness/confirmations", body);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("NOT-OWN", await DetailAsync(refused), StringComparison.Ordinal);
        Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from hub.freshness_confirmations where dataset_id = 'it-access-own'"));

        var confirmed = await own.PostAsJsonAsync("/api/freshness/confirmations", body);
        Assert.Equal(HttpStatusCode.Created, confirmed.StatusCode);
        var signature = $"OWN (key {key.KeyId})";
        Assert.Equal(signature, (await confirmed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("by").GetString());
        Assert.Equal(signature, await hub.QueryScalarAsync<string>("select confirmed_by from hub.freshness_confirmations where dataset_id = 'it-access-own'"));
    }

    [Fact]
    public async Task Staff_keys_are_issued_listed_and_revoked_by_the_cli_and_a_revoked_key_gets_401()
    {
        var (code, output, _) = await CliAsync(StaffCommand.RunAsync, "issue-key", "it-cli-auditor", "--role", "auditor");
        Assert.Equal(0, code);
        string Field(string name) => output.Split('\n').Single(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();
        var (keyId, key) = (Field("key id"), Field("key"));
        Assert.Equal("auditor", Field("role"));
        var auditor = hub.ApiWithKey(key);
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("/api/quarantine?limit=1")).StatusCode);

        var listed = (await CliAsync(StaffCommand.RunAsync, "keys", "it-cli-auditor")).Output;
        Assert.Contains(keyId, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(key, listed, StringComparison.Ordinal);
        Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from hub.api_keys where key_sha256 = @key", new { key }));
        Assert.Equal(2, (await CliAsync(StaffCommand.RunAsync, "issue-key", "someone", "--role", "agency")).Code); // not a staff role
        Assert.Equal(1, (await CliAsync(AgenciesCommand.RunAsync, "revoke-key", keyId)).Code); // agencies manage agency keys only

        Assert.Equal(0, (await CliAsync(StaffCommand.RunAsync, "revoke-key", keyId)).Code);
        Assert.Equal(HttpStatusCode.Unauthorized, (await auditor.GetAsync("/api/quarantine?limit=1")).StatusCode);
        Assert.DoesNotContain(hub.Logs.Lines, l => l.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_openapi_document_shows_the_key_scheme_on_protected_operations_only()
    {
        using var document = JsonDocument.Parse(await hub.Api.GetStringAsync("/openapi/v1.json"));
        var root = document.RootElement;
        Assert.Equal("bearer", root.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").GetProperty("scheme").GetString());
        var paths = root.GetProperty("paths");
        Assert.True(paths.GetProperty("/api/payloads/{sha256}").GetProperty("get").TryGetProperty("security", out _));
        Assert.True(paths.GetProperty("/api/freshness/confirmations").GetProperty("post").TryGetProperty("security", out _));
        Assert.False(paths.GetProperty("/api/datasets").GetProperty("get").TryGetProperty("security", out _));
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = JsonContent.Create(new { dataset = "it-wards", period = "2026-M01", reason = "r" });
        }

        return await client.SendAsync(request);
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;

    private async Task<(int Code, string Output, string Error)> CliAsync(
        Func<string[], IConfiguration, TextWriter, TextWriter, Task<int>> command, params string[] args)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Hub"] = hub.ConnectionString }).Build();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await command(args, configuration, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
