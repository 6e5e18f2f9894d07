using System.Text.RegularExpressions;
using Hub.Connectors.Http;
using Hub.Core.Catalog;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Hub.Connectors.Tests.Http;

/// <summary>A service shaped like the General Statistics Office's DMDVHC.asmx, with Ninh Thuận's real districts.</summary>
public sealed class SoapXmlSourceTests : IDisposable
{
    private const string Envelope =
        """
        <?xml version="1.0" encoding="utf-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
          <soap:Body>
            <DanhMucQuanHuyen xmlns="http://tempuri.org/">
              <DenNgay>{{DenNgay}}</DenNgay>
              <MaTinh>{{MaTinh}}</MaTinh>
            </DanhMucQuanHuyen>
          </soap:Body>
        </soap:Envelope>
        """;

    // Rows from /work/shared/data/dvhcvn.json (01/03/2025), Ninh Thuận (58).
    private const string Diffgram =
        """
        <?xml version="1.0" encoding="utf-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
          <soap:Body>
            <DanhMucQuanHuyenResponse xmlns="http://tempuri.org/">
              <DanhMucQuanHuyenResult>
                <xs:schema id="NewDataSet" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
                  <xs:element name="NewDataSet" msdata:IsDataSet="true"><xs:complexType><xs:choice minOccurs="0" maxOccurs="unbounded"><xs:element name="TABLE" /></xs:choice></xs:complexType></xs:element>
                </xs:schema>
                <diffgr:diffgram xmlns:msdata="urn:schemas-microsoft-com:xml-msdata" xmlns:diffgr="urn:schemas-microsoft-com:xml-diffgram-v1">
                  <NewDataSet xmlns="">
                    <TABLE diffgr:id="TABLE1" msdata:rowOrder="0">
                      <MaQuanHuyen>582</MaQuanHuyen><TenQuanHuyen>Thành phố Phan Rang-Tháp Chàm</TenQuanHuyen><LoaiHinh>Thành phố</LoaiHinh><MaTinh>58</MaTinh><TenTinh>Tỉnh Ninh Thuận</TenTinh>
                    </TABLE>
                    <TABLE diffgr:id="TABLE2" msdata:rowOrder="1">
                      <MaQuanHuyen>584</MaQuanHuyen><TenQuanHuyen>Huyện Bác Ái</TenQuanHuyen><LoaiHinh>Huyện</LoaiHinh><MaTinh>58</MaTinh><TenTinh>Tỉnh Ninh Thuận</TenTinh>
                    </TABLE>
                    <TABLE diffgr:id="TABLE3" msdata:rowOrder="2">
                      <MaQuanHuyen>585</MaQuanHuyen><TenQuanHuyen>Huyện Ninh Sơn</TenQuanHuyen><LoaiHinh>Huyện</LoaiHinh><MaTinh>58</MaTinh><TenTinh>Tỉnh Ninh Thuận</TenTinh>
                    </TABLE>
                  </NewDataSet>
                </diffgr:diffgram>
              </DanhMucQuanHuyenResult>
            </DanhMucQuanHuyenResponse>
          </soap:Body>
        </soap:Envelope>
        """;

    private readonly AgencyHost host = new();

    public void Dispose() => host.Dispose();

    private SoapSourceDefinition Source => new()
    {
        Url = host.Url("/DMDVHC.asmx"),
        SoapAction = "http://tempuri.org/DanhMucQuanHuyen",
        Envelope = Envelope,
        Parameters = [new SoapParameter("DenNgay", null, "today"), new SoapParameter("MaTinh", "58")],
        RecordXPath = "//diffgr:diffgram/NewDataSet/TABLE",
    };

    [Fact]
    public async Task A_diffgram_gives_one_record_per_table_row_with_child_elements_as_fields()
    {
        host.Agency.Given(Request.Create().WithPath("/DMDVHC.asmx").UsingPost().WithHeader("SOAPAction", "\"http://tempuri.org/DanhMucQuanHuyen\"")
                .WithBody(new RegexMatcher(@"<DenNgay>\d{2}/\d{2}/\d{4}</DenNgay>\s*<MaTinh>58</MaTinh>")))
            .RespondWith(Response.Create().WithHeader("Content-Type", "text/xml; charset=utf-8").WithBody(Diffgram));

        var pages = await host.FetchAllAsync(Source);

        using var page = Assert.Single(pages);
        Assert.Equal(3, page.Records.Count);
        var first = page.Records[0];
        Assert.Equal("582", first.GetProperty("MaQuanHuyen").GetString());
        Assert.Equal("Thành phố Phan Rang-Tháp Chàm", first.GetProperty("TenQuanHuyen").GetString());
        Assert.Equal("Thành phố", first.GetProperty("LoaiHinh").GetString());
        Assert.Equal("Tỉnh Ninh Thuận", page.Records[2].GetProperty("TenTinh").GetString());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(page.Payload)), page.PayloadSha256);
        Assert.Contains("<diffgr:diffgram", System.Text.Encoding.UTF8.GetString(page.Payload), StringComparison.Ordinal);
    }

    [Fact]
    public void The_date_parameter_is_today_in_vietnam_time_written_dd_MM_yyyy()
    {
        // 2025-02-28 18:30 UTC is already 1 March in Viet Nam (UTC+7).
        var envelope = SoapXmlSource.Envelope(Source with { Parameters = [new SoapParameter("DenNgay", null, "today"), new SoapParameter("MaTinh", "5&8")] },
            new DateTimeOffset(2025, 2, 28, 18, 30, 0, TimeSpan.Zero));

        Assert.Contains("<DenNgay>01/03/2025</DenNgay>", envelope, StringComparison.Ordinal);
        Assert.Contains("<MaTinh>5&amp;8</MaTinh>", envelope, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_soap_fault_fails_the_fetch_with_its_message()
    {
        host.Agency.Given(Request.Create().WithPath("/DMDVHC.asmx").UsingPost())
            .RespondWith(Response.Create().WithHeader("Content-Type", "text/xml").WithBody(
                """<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>Ngày không hợp lệ</faultstring></soap:Fault></soap:Body></soap:Envelope>"""));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => host.FetchAllAsync(Source));

        Assert.Contains("SOAP fault: Ngày không hợp lệ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_html_error_page_with_status_200_fails_the_fetch()
    {
        host.Agency.Given(Request.Create().WithPath("/DMDVHC.asmx").UsingPost())
            .RespondWith(Response.Create().WithHeader("Content-Type", "text/html").WithBody("<html><body>Server Error in '/' Application.</body></html>"));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => host.FetchAllAsync(Source));

        Assert.Matches(new Regex("did not return XML \\(text/html\\)"), error.Message);
    }
}
