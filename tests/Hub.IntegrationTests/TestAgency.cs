using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Hub.IntegrationTests;

/// <summary>The agency the integration tests connect to: its connectors.d file and the pages WireMock serves.</summary>
public static class TestAgency
{
    public const int PageSize = 50;

    public const string WardSchema =
        """
        {
          "type": "object",
          "required": ["ma_xa", "ten_xa", "dan_so"],
          "properties": {
            "ma_xa": { "type": "string", "pattern": "^[0-9]{5}$" },
            "ten_xa": { "type": "string", "minLength": 1 },
            "dan_so": { "type": "integer", "minimum": 0 },
            "dien_tich": { "type": "number" },
            "ngay_thanh_lap": { "type": "string", "format": "date" },
            "cap_nhat": { "type": "string", "format": "date-time" }
          }
        }
        """;

    /// <summary>Ward officials: the name is masked, the citizen id hashed and the phone dropped before publication.</summary>
    public const string OfficialsSchema =
        """
        {
          "type": "object",
          "required": ["ma_xa", "chu_tich"],
          "properties": {
            "ma_xa": { "type": "string" },
            "ten_xa": { "type": "string" },
            "chu_tich": { "type": "string", "x-personal-data": "mask" },
            "so_cccd": { "type": "string", "pattern": "^[0-9]{12}$", "x-personal-data": "hash" },
            "dien_thoai": { "type": "string", "x-personal-data": "drop" }
          }
        }
        """;

    /// <summary>Households whose ward code must exist in the dataset <c>it-quality-xa</c>.</summary>
    public const string HouseholdsSchema =
        """
        {
          "type": "object",
          "required": ["ma_ho", "ten"],
          "properties": {
            "ma_ho": { "type": "string" },
            "ten": { "type": "string" },
            "ma_xa": { "type": "string", "x-reference": "it-quality-xa" }
          }
        }
        """;

    /// <summary>One property of every column type, for the typed staging of records and the audit digests (<c>it-typed</c>, <c>it-audit-digest</c>, <c>it-audit-formats</c>, <c>it-audit-staged</c>, key <c>ma</c>).</summary>
    public const string TypedSchema =
        """
        {
          "type": "object",
          "required": ["ma"],
          "properties": {
            "ma": { "type": "string" },
            "ghi_chu": { "type": ["string", "null"] },
            "so": { "type": "number" },
            "dem": { "type": "integer" },
            "co": { "type": "boolean" },
            "ngay": { "type": "string", "format": "date" },
            "luc": { "type": "string", "format": "date-time" },
            "chi_tiet": { "type": "object" },
            "nhan": { "type": "array" }
          }
        }
        """;

    /// <summary>Datasets of the test agency; each test owns one and its path on the agency.</summary>
    public static readonly string[] Datasets = ["it-wards", "it-quarantine", "it-failing", "it-empty", "it-versions", "it-traced", "it-listed", "it-audit", "it-replay", "it-events", "it-redelivery", "it-personal", "it-quality", "it-quality-xa", "it-abandon", "it-manual", "it-atomic", "it-push", "it-push-idem", "it-push-auth", "it-autopause", "it-incremental", "it-incremental-b", "it-record-cache", "it-record-shape", "it-outbox", "it-outbox-sweep", "it-outbox-broken", "it-unchanged-race", "it-future-version", "it-replay-failed", "it-audit-cover", "it-audit-tail", "it-audit-events", "it-audit-atomic", "it-retry", "it-quality-ref", "it-typed", "it-staging-lost", "it-events-burst", "it-audit-digest", "it-audit-formats", "it-audit-staged", "it-bulk-load", "it-staging-orphan", "it-incremental-del", "it-push-delete", "it-key-order"];

    /// <summary>The <c>incremental:</c> section of the datasets <c>it-incremental*</c>: cursor <c>cap_nhat</c>, one hour of look-back.</summary>
    private const string IncrementalSection = "    incremental:\n      cursor_field: cap_nhat\n      param: updated_since\n      lookback: 1h\n";

    /// <summary>The datasets whose agency marks a deleted record with <c>"xoa": true</c> (<c>deleted_when</c>).</summary>
    private static readonly string[] DeletionDatasets = ["it-incremental-del", "it-push-delete"];

    public static void WriteConnectors(string folder, string agencyUrl)
    {
        Directory.CreateDirectory(Path.Combine(folder, "schemas"));
        File.WriteAllText(Path.Combine(folder, "schemas", "ward.v1.json"), WardSchema);
        File.WriteAllText(Path.Combine(folder, "schemas", "officials.v1.json"), OfficialsSchema);
        File.WriteAllText(Path.Combine(folder, "schemas", "households.v1.json"), HouseholdsSchema);
        File.WriteAllText(Path.Combine(folder, "schemas", "typed.v1.json"), TypedSchema);
        var datasets = string.Concat(Datasets.Select(id =>
            $"""
              - id: {id}
                title: Xã phường ({id})
                licence: CC-BY-4.0
                update_cycle: monthly
                schedule: "0 0 3 1 1 ? 2099"
                schema: schemas/{id switch { "it-personal" => "officials", "it-quality" or "it-quality-ref" => "households", "it-typed" or "it-audit-digest" or "it-audit-formats" or "it-audit-staged" => "typed", _ => "ward" }}.v1.json
                primary_key: {id switch { "it-quality" or "it-quality-ref" => "ma_ho", "it-typed" or "it-audit-digest" or "it-audit-formats" or "it-audit-staged" => "ma", _ => "ma_xa" }}
                source:
                  kind: rest
                  url: "{agencyUrl}/{id}?tinh=58"
                  record_path: $.data
                  paging:
                    style: offset
                    page_size: {PageSize}
            {(id.StartsWith("it-incremental", StringComparison.Ordinal) ? IncrementalSection : string.Empty)}{(DeletionDatasets.Contains(id) ? "    deleted_when: { field: xoa }\n" : string.Empty)}
            """));
        File.WriteAllText(Path.Combine(folder, "test-agency.yaml"), $"""
            version: 1
            agency:
              code: TEST
              name: Cơ quan thử nghiệm
            datasets:
            {datasets}
            """);
        File.WriteAllText(Path.Combine(folder, "zz-broken.yaml"), "version: 1\nagency:\n  code: BROKEN\n  name: x\ndatasets:\n  - id: broken-one\n    titel: typo\n");
    }

    /// <summary>Wards 1..<paramref name="count"/> (<see cref="Ward"/>), as records to serve.</summary>
    public static List<object> Wards(int count, string suffix = "") => Enumerable.Range(1, count).Select(i => (object)Ward(i, suffix)).ToList();

    public static Dictionary<string, object?> Ward(int i, string suffix = "") => new()
    {
        ["ma_xa"] = (22000 + i).ToString("00000", CultureInfo.InvariantCulture),
        ["ten_xa"] = $"Xã Phước {Names[i % Names.Length]} {i}{suffix}",
        ["dan_so"] = 1000 + (i * 37 % 9000),
        ["dien_tich"] = Math.Round(10 + (i * 1.37 % 90), 2),
        ["ngay_thanh_lap"] = new DateOnly(1990 + (i % 30), 1 + (i % 12), 1 + (i % 28)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["cap_nhat"] = "2025-03-01T08:00:00+07:00",
    };

    /// <summary>Agencies send UTF-8 text as it is, not \u escapes.</summary>
    private static readonly JsonSerializerOptions AgencyJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] Names = ["Hải", "Dinh", "Thuận", "Hà", "Sơn", "Minh", "Nam", "Vinh", "Thái", "Hậu"];

    /// <summary>Serves <paramref name="records"/> at <c>/{dataset}</c> with offset paging, replacing what was served before.</summary>
    public static void Serve(WireMockServer agency, string dataset, IReadOnlyList<object> records)
    {
        for (var offset = 0; offset <= records.Count + PageSize; offset += PageSize)
        {
            agency.Given(PageRequest(dataset, offset)).WithGuid(StubId(dataset, offset)).RespondWith(PageResponse(records, offset));
        }
    }

    /// <summary>Like <see cref="Serve"/>, but the page at <paramref name="offset"/> first answers <paramref name="status"/> once (a transient failure).</summary>
    public static void ServeFailingOnce(WireMockServer agency, string dataset, IReadOnlyList<object> records, int offset, int status)
    {
        Serve(agency, dataset, records);
        var scenario = $"{dataset}:{offset}:fails once";
        agency.Given(PageRequest(dataset, offset)).WithGuid(StubId(dataset, offset)).InScenario(scenario).WillSetStateTo("failed")
            .RespondWith(Response.Create().WithStatusCode(status));
        agency.Given(PageRequest(dataset, offset)).WithGuid(StubId(dataset, -offset - 1)).InScenario(scenario).WhenStateIs("failed")
            .RespondWith(PageResponse(records, offset));
    }

    /// <summary>Like <see cref="Serve"/>, but the page at <paramref name="offset"/> answers only after <paramref name="delay"/>.</summary>
    public static void ServeSlowPage(WireMockServer agency, string dataset, IReadOnlyList<object> records, int offset, TimeSpan delay)
    {
        Serve(agency, dataset, records);
        agency.Given(PageRequest(dataset, offset)).WithGuid(StubId(dataset, offset)).RespondWith(PageResponse(records, offset).WithDelay(delay));
    }

    private static IRequestBuilder PageRequest(string dataset, int offset) =>
        Request.Create().WithPath($"/{dataset}").WithParam("offset", offset.ToString(CultureInfo.InvariantCulture)).UsingGet();

    private static IResponseBuilder PageResponse(IReadOnlyList<object> records, int offset) =>
        Response.Create().WithHeader("Content-Type", "application/json; charset=utf-8")
            .WithBody(JsonSerializer.Serialize(new { total = records.Count, data = records.Skip(offset).Take(PageSize).ToList() }, AgencyJson));

    /// <summary>Answers the first page of <c>/{dataset}</c> with <paramref name="status"/> and <paramref name="body"/>.</summary>
    public static void Fail(WireMockServer agency, string dataset, int status, string body = "")
    {
        agency.Given(Request.Create().WithPath($"/{dataset}").WithParam("offset", "0").UsingGet())
            .WithGuid(StubId(dataset, 0))
            .RespondWith(Response.Create().WithStatusCode(status).WithBody(body));
    }

    private static Guid StubId(string dataset, int offset) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes($"{dataset}:{offset}"))[..16]);
}
