using System.Text;
using Hub.Connectors.Http;

namespace Hub.Connectors.Tests.Http;

public sealed class CsvPagerTests
{
    /// <summary>A file of <paramref name="count"/> rows whose notes hold quotes, the delimiter and line breaks every few rows.</summary>
    private static string File(int count)
    {
        var text = new StringBuilder("ma;ten;ghi_chu\r\n");
        for (var i = 1; i <= count; i++)
        {
            var note = (i % 3) switch
            {
                0 => "\"dòng một\r\ndòng \"\"hai\"\"; ba\"",
                1 => "Phường Đô Vinh",
                _ => string.Empty,
            };
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i};Xã {i};{note}\r\n");
        }

        return text.ToString();
    }

    /// <summary>Reads <paramref name="bytes"/> in pieces of 1 to 9 bytes, so rows, quotes and code units straddle reads.</summary>
    private static Func<Memory<byte>, ValueTask<int>> Dribble(byte[] bytes)
    {
        var random = new Random(7);
        var position = 0;
        return memory =>
        {
            var count = Math.Min(Math.Min(memory.Length, random.Next(1, 10)), bytes.Length - position);
            bytes.AsSpan(position, count).CopyTo(memory.Span);
            position += count;
            return ValueTask.FromResult(count);
        };
    }

    private static async Task<List<CsvPage>> SplitAsync(byte[] bytes, string encoding, int rowsPerPage, long maxPageBytes = 1_000_000)
    {
        var pages = new List<CsvPage>();
        await foreach (var page in CsvPager.SplitAsync(Dribble(bytes), encoding, rowsPerPage, maxPageBytes))
        {
            pages.Add(page);
        }

        return pages;
    }

    /// <summary>Every data row of every page, parsed alone, with its line in the file.</summary>
    private static List<(int Line, string Fields)> Rows(IEnumerable<CsvPage> pages, string encoding) =>
        pages.SelectMany(p => CsvParser.Parse(CsvSource.Decode(p.Bytes, encoding), ';').Skip(1).Select(r => (r.Line + p.LineOffset, string.Join('|', r.Fields)))).ToList();

    public static TheoryData<string, byte[]> Files()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var text = File(23);
        return new TheoryData<string, byte[]>
        {
            { "utf-8", Encoding.UTF8.GetBytes(text) },
            { "utf-8", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)] },
            { "utf-8", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(text)] },
            { "utf-16BE", Encoding.BigEndianUnicode.GetBytes(text) },
            { "windows-1258", Encoding.GetEncoding(1258).GetBytes(text.Normalize(NormalizationForm.FormD)) },
        };
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Pages_hold_the_header_and_whole_rows_and_together_give_the_file_in_order(string encoding, byte[] bytes)
    {
        var pages = await SplitAsync(bytes, encoding, rowsPerPage: 5);

        Assert.Equal(5, pages.Count); // 23 rows: 5 + 5 + 5 + 5 + 3
        var whole = CsvParser.Parse(CsvSource.Decode(bytes, encoding), ';').Skip(1).Select(r => (r.Line, string.Join('|', r.Fields))).ToList();
        Assert.Equal(23, whole.Count);
        Assert.Equal(whole, Rows(pages, encoding));
        Assert.All(pages, p => Assert.StartsWith("ma;ten;ghi_chu\r\n", CsvSource.Decode(p.Bytes, encoding), StringComparison.Ordinal));
        // The pages are the file's own bytes: the first page, then each other page without its copy of the header.
        var headerLength = (pages.Sum(p => p.Bytes.Length) - bytes.Length) / (pages.Count - 1);
        Assert.Equal(bytes, pages[0].Bytes.Concat(pages.Skip(1).SelectMany(p => p.Bytes.Skip(headerLength))).ToArray());
    }

    [Fact]
    public async Task A_page_ends_early_at_a_row_boundary_when_it_would_exceed_the_byte_limit()
    {
        var bytes = Encoding.UTF8.GetBytes(File(200));
        var rows = CsvParser.Parse(CsvSource.Decode(bytes, "utf-8"), ';').Skip(1).Select(r => (r.Line, string.Join('|', r.Fields)));

        var pages = await SplitAsync(bytes, "utf-8", rowsPerPage: 100_000, maxPageBytes: 1024);

        Assert.All(pages[..^1], p => Assert.InRange(p.Bytes.Length, 1024 - 64, 1024));
        Assert.Equal(rows, Rows(pages, "utf-8"));
    }

    [Fact]
    public async Task A_row_longer_than_the_page_limit_or_a_quote_never_closed_is_refused_naming_its_line()
    {
        var bytes = Encoding.UTF8.GetBytes("ma;ten;ghi_chu\n1;a;b\n2;b;\"" + new string('x', 5000) + "\n3;c;d\n");

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => SplitAsync(bytes, "utf-8", rowsPerPage: 1, maxPageBytes: 1024));

        Assert.Contains("row starting on line 3 is longer than the page limit of 1024 bytes (Connectors:MaxPageBytes)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_without_rows_is_one_page_of_its_header()
    {
        var page = Assert.Single(await SplitAsync(Encoding.UTF8.GetBytes("ma;ten"), "utf-8", rowsPerPage: 5));

        Assert.Equal("ma;ten", CsvSource.Decode(page.Bytes, "utf-8"));
        Assert.Empty(Rows([page], "utf-8"));
    }
}
