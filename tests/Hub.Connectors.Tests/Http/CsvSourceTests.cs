using System.Text;
using Hub.Connectors.Http;
using Hub.Core.Catalog;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Hub.Connectors.Tests.Http;

public sealed class CsvSourceTests : IDisposable
{
    private const string Text = "ma_xa;ten_xa;ghi_chu\r\n22738;Phường Đô Vinh;\"có \"\"dấu ngoặc\"\"; và\r\nxuống dòng\"\r\n22783;Xã Phước Bình;\r\n";

    private readonly AgencyHost host = new();

    public void Dispose() => host.Dispose();

    [Fact]
    public void The_parser_keeps_quoted_delimiters_quotes_and_line_breaks()
    {
        var rows = CsvParser.Parse("a,b\n\"x,1\",\"say \"\"hi\"\"\nthere\"\n\n3,\n").ToList();

        Assert.Equal(3, rows.Count);
        Assert.Equal(["x,1", "say \"hi\"\nthere"], rows[1].Fields);
        Assert.Equal(2, rows[1].Line);
        Assert.Equal(["3", ""], rows[2].Fields);
        Assert.Equal(5, rows[2].Line);
    }

    public static TheoryData<string, byte[]> Encodings()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return new TheoryData<string, byte[]>
        {
            { "utf-8", Encoding.UTF8.GetBytes(Text) },
            { "utf-8", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Text)] },
            { "utf-8", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(Text)] },
            { "utf-16", Encoding.Unicode.GetBytes(Text) },
            { "windows-1258", Encoding.GetEncoding(1258).GetBytes(WithCombiningTones(Text)) },
        };
    }

    /// <summary>Text as Windows-1258 writes Vietnamese: base letters precomposed (ư, ô, đ), tone marks combining.</summary>
    private static string WithCombiningTones(string text)
    {
        char[] tones = ['\u0300', '\u0301', '\u0303', '\u0309', '\u0323'];
        var result = new StringBuilder();
        var decomposed = text.Normalize(NormalizationForm.FormD);
        for (var i = 0; i < decomposed.Length;)
        {
            var end = i + 1;
            while (end < decomposed.Length && char.GetUnicodeCategory(decomposed[end]) == System.Globalization.UnicodeCategory.NonSpacingMark)
            {
                end++;
            }

            var cluster = decomposed[i..end];
            result.Append(string.Concat(cluster.Where(c => !tones.Contains(c))).Normalize(NormalizationForm.FormC));
            result.Append(string.Concat(cluster.Where(tones.Contains)));
            i = end;
        }

        return result.ToString();
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task Rows_become_objects_of_strings_in_every_declared_charset(string encoding, byte[] body)
    {
        host.Agency.Given(Request.Create().WithPath("/files/xa.csv").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "text/csv").WithBody(body));

        var pages = await host.FetchAllAsync(new CsvSourceDefinition { Url = host.Url("/files/xa.csv"), Delimiter = ';', Encoding = encoding });

        using var page = Assert.Single(pages);
        Assert.Equal(2, page.Records.Count);
        Assert.Equal("Phường Đô Vinh", page.Records[0].GetProperty("ten_xa").GetString());
        Assert.Equal("có \"dấu ngoặc\"; và\r\nxuống dòng", page.Records[0].GetProperty("ghi_chu").GetString());
        Assert.Equal("", page.Records[1].GetProperty("ghi_chu").GetString());
        Assert.Equal(body, page.Payload);
    }

    [Fact]
    public async Task A_row_with_the_wrong_number_of_fields_fails_the_fetch_naming_its_line()
    {
        host.Agency.Given(Request.Create().WithPath("/files/xa.csv").UsingGet())
            .RespondWith(Response.Create().WithBody("ma_xa,ten_xa\n22738,Phường Đô Vinh\n22741\n"));

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => host.FetchAllAsync(new CsvSourceDefinition { Url = host.Url("/files/xa.csv") }));

        Assert.Contains("line 3 has 1 fields, the header has 2", error.Message, StringComparison.Ordinal);
    }
}
