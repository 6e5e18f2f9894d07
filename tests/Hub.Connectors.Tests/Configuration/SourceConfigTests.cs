using Hub.Connectors.Configuration;
using Hub.Core.Catalog;

namespace Hub.Connectors.Tests.Configuration;

/// <summary>Loading each source kind, auth, rate limit and mapping; every broken new key is reported at its line.</summary>
public sealed class SourceConfigTests : IDisposable
{
    public const string SoapSource =
        """
        kind: soap
        url: "https://gso.test/DMDVHC.asmx"
        soap_action: http://tempuri.org/DanhMucPhuongXa
        envelope: |
          <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
            <DanhMucPhuongXa xmlns="http://tempuri.org/"><DenNgay>{{DenNgay}}</DenNgay><MaTinh>{{MaTinh}}</MaTinh></DanhMucPhuongXa>
          </soap:Body></soap:Envelope>
        parameters:
          DenNgay: { date: today, format: dd/MM/yyyy }
          MaTinh: "58"
        record_xpath: //diffgr:diffgram/NewDataSet/TABLE
        """;

    public const string ODataSource =
        """
        kind: odata
        url: "https://odata.test/odata/Wards"
        filter: "MaTinh eq '58'"
        select: MaXa,TenXa
        page_size: 200
        auth:
          type: oauth2
          token_url: https://id.test/connect/token
          client_id: hub
          client_secret: ${env:ODATA_SECRET}
        """;

    public const string CsvSource =
        """
        kind: csv
        url: "https://files.test/xa.csv"
        delimiter: ";"
        encoding: windows-1258
        auth:
          type: api_key
          query_param: api_key
          key: ${env:CSV_KEY}
        """;

    public const string CursorSource =
        """
        kind: rest
        url: "https://api.test/wards"
        record_path: $.items
        auth:
          type: bearer
          token: ${file:SECRET_FILE}
        paging:
          style: cursor
          cursor_path: $.meta.next
          cursor_param: after
          total_path: $.meta.total
        """;

    public const string Mapping =
        """
            mapping:
              fields:
                ma_xa: MaXa
                ten_xa: { from: TenXa, type: string }
                dan_so: { from: DanSo, type: integer, format: vi }
                ngay_thanh_lap: { from: NgayThanhLap, type: date, format: [dd/MM/yyyy, d/M/yyyy] }
                con_hieu_luc: { value: "true", type: boolean }

        """;

    public const string RateLimit = "  rate_limit: { requests_per_second: 2.5, concurrent_requests: 2 }\n";

    private readonly ConnectorsFolder folder = new();
    private readonly string secretFile;

    public SourceConfigTests()
    {
        secretFile = Path.Combine(folder.Path, "bearer.secret");
        File.WriteAllText(secretFile, "t0k3n\n");
    }

    public void Dispose() => folder.Dispose();

    public static string File_(string source, string agencyExtra = "", string datasetExtra = "") =>
        "version: 1\nagency:\n  code: SNV\n  name: Sở Nội vụ\n" + agencyExtra +
        "datasets:\n  - id: dvhc-xa\n    title: Danh mục xã\n    licence: CC-BY-4.0\n    update_cycle: yearly\n    schedule: \"0 0 2 * * ?\"\n" +
        "    schema: schemas/xa.v1.json\n    primary_key: ma_xa\n" + datasetExtra + "    source:\n" +
        string.Concat(source.Split('\n').Select(line => line.Length == 0 ? "\n" : "      " + line + "\n"));

    private CatalogLoadResult Load(string yaml)
    {
        folder.Write("snv.yaml", yaml.Replace("SECRET_FILE", secretFile, StringComparison.Ordinal));
        return CatalogLoader.LoadDirectory(folder.Path, name => name switch { "ODATA_SECRET" => "o-secret", "CSV_KEY" => "c-key", _ => null });
    }

    [Fact]
    public void A_soap_source_with_date_and_value_parameters_loads()
    {
        var result = Load(File_(SoapSource, RateLimit));

        Assert.Empty(result.Errors);
        var source = Assert.IsType<SoapSourceDefinition>(Assert.Single(result.Datasets).Source);
        Assert.Equal("http://tempuri.org/DanhMucPhuongXa", source.SoapAction);
        Assert.Equal([new SoapParameter("DenNgay", null, "today", "dd/MM/yyyy"), new SoapParameter("MaTinh", "58")], source.Parameters);
        Assert.Equal("//diffgr:diffgram/NewDataSet/TABLE", source.RecordXPath);
        Assert.Equal(new AgencyEndpoint("SNV", new RateLimitDefinition(2.5, 2)), source.Agency);
    }

    [Fact]
    public void An_odata_source_with_oauth2_loads_with_its_secret_resolved()
    {
        var source = Assert.IsType<ODataSourceDefinition>(Assert.Single(Load(File_(ODataSource)).Datasets).Source);

        Assert.Equal("MaTinh eq '58'", source.Filter);
        Assert.Equal(200, source.PageSize);
        Assert.Equal(AuthKind.OAuth2, source.Auth.Kind);
        Assert.Equal("o-secret", source.Auth.ClientSecret!.Reveal());
    }

    [Fact]
    public void A_csv_source_and_a_cursor_source_with_a_file_secret_load()
    {
        var csv = Assert.IsType<CsvSourceDefinition>(Assert.Single(Load(File_(CsvSource)).Datasets).Source);
        Assert.Equal(';', csv.Delimiter);
        Assert.Equal("windows-1258", csv.Encoding);
        Assert.Equal("api_key", csv.Auth.QueryParameter);

        var rest = Assert.IsType<RestSourceDefinition>(Assert.Single(Load(File_(CursorSource)).Datasets).Source);
        Assert.Equal(PagingStyle.Cursor, rest.Paging.Style);
        Assert.Equal("$.meta.next", rest.Paging.CursorPath);
        Assert.Equal("after", rest.Paging.CursorParameter);
        Assert.Equal("t0k3n", rest.Auth.Token!.Reveal());
    }

    [Fact]
    public void A_mapping_loads_with_types_formats_and_constants()
    {
        var result = Load(File_(CursorSource, datasetExtra: Mapping));

        Assert.Empty(result.Errors);
        var mapping = Assert.Single(result.Datasets).Mapping;
        Assert.False(mapping.KeepUnmapped);
        Assert.Equal(5, mapping.Fields.Count);
        Assert.Equal(new FieldMapping("ma_xa", "MaXa", null, FieldType.Keep, []), mapping.Fields[0]);
        Assert.Equal(["dd/MM/yyyy", "d/M/yyyy"], mapping.Fields[3].Formats);
        Assert.Equal(FieldType.WholeNumber, mapping.Fields[2].Type);
        Assert.Equal("true", mapping.Fields[4].Constant);
    }

    public static TheoryData<string, string, string, string> Mistakes() => new()
    {
        // source, text to replace, replacement (the marker of the expected line), message
        { "rate", "requests_per_second: 2.5", "requests_per_second: fast", "'requests_per_second' must be a number" },
        { "rate", "concurrent_requests: 2", "concurrent_request: 2", "unknown key 'concurrent_request'" },
        { "map", "type: integer", "type: money", "'type' is 'money'" },
        { "map", "ma_xa: MaXa", "so_xa: MaXa", "mapping field 'so_xa' is not a property" },
        { "map", "{ value: \"true\", type: boolean }", "{ value: \"true\", from: X }", "needs exactly one of 'from'" },
        { "cursor", "token: ${file:SECRET_FILE}", "token: plain-text-token", "secrets must stay out of connectors.d" },
        { "cursor", "type: bearer", "type: kerberos", "auth type 'kerberos' is not supported" },
        { "cursor", "token: ${file:SECRET_FILE}", "token: ${file:/nonexistent/secret}", "file /nonexistent/secret" },
        { "odata", "client_secret: ${env:ODATA_SECRET}", "client_secret: ${env:NOT_SET_ANYWHERE}", "NOT_SET_ANYWHERE" },
        { "cursor", "cursor_path: $.meta.next", "cursor_pth: $.meta.next", "unknown key 'cursor_pth'" },
        { "cursor", "total_path: $.meta.total", "total_path: meta.total", "total_path 'meta.total' is not supported" },
        { "soap", "record_xpath: //diffgr:diffgram/NewDataSet/TABLE", "record_xpath: //TABLE[", "not a valid XPath" },
        { "soap", "MaTinh: \"58\"", "MaHuyen: \"582\"", "parameter 'MaHuyen' is not used in 'envelope'" },
        { "soap", "{ date: today, format: dd/MM/yyyy }", "{ date: tomorrow }", "neither 'today' nor a yyyy-MM-dd date" },
        { "csv", "encoding: windows-1258", "encoding: latin-9000", "encoding 'latin-9000' is not known" },
        { "csv", "delimiter: \";\"", "delimiter: \";;\"", "must be one character" },
        { "odata", "page_size: 200", "page_size: 0", "'page_size' must be a whole number" },
        { "odata", "select: MaXa,TenXa", "record_path: $.value", "unknown key 'record_path' in a 'odata' source" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Each_mistake_in_a_new_key_is_reported_at_its_line(string which, string good, string bad, string message)
    {
        var yaml = which switch
        {
            "rate" => File_(SoapSource, RateLimit),
            "map" => File_(CursorSource, datasetExtra: Mapping),
            "cursor" => File_(CursorSource),
            "soap" => File_(SoapSource),
            "csv" => File_(CsvSource),
            _ => File_(ODataSource),
        };
        Assert.Contains(good, yaml, StringComparison.Ordinal);
        yaml = yaml.Replace(good, bad, StringComparison.Ordinal);
        var line = yaml.Split('\n').ToList().FindIndex(l => l.Contains(bad, StringComparison.Ordinal)) + 1;

        var result = Load(yaml);

        Assert.Empty(result.Datasets);
        var error = Assert.Single(result.Errors, e => e.Message.Contains(message, StringComparison.Ordinal));
        Assert.EndsWith("snv.yaml", error.File, StringComparison.Ordinal);
        Assert.Equal(line, error.Line);
        Assert.NotNull(error.Fix);
    }
}
