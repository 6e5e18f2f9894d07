using System.Runtime.CompilerServices;
using System.Text;

namespace Hub.Connectors.Http;

/// <summary>
/// One page cut from a CSV file: the header row followed by whole rows, as the agency's bytes (so each page is a
/// CSV file in the file's charset, kept as it is for lineage). A row on line <c>n</c> of the page is on line
/// <c>n + LineOffset</c> of the file.
/// </summary>
public sealed record CsvPage(byte[] Bytes, int LineOffset);

/// <summary>
/// Cuts a CSV file into pages as its bytes arrive, so a file of any size is read in flat memory: a page ends after
/// <c>rowsPerPage</c> rows, or earlier when it would exceed <c>maxPageBytes</c>. A row ends at a line break outside
/// quotes, looked for in code units of the file's charset (a byte order mark wins over the declared one), so
/// UTF-16 files are cut as well as UTF-8 and Windows-1258 ones.
/// </summary>
public sealed class CsvPager
{
    private const int ReadSize = 64 * 1024;
    private readonly int rowsPerPage;
    private readonly long maxPageBytes;
    private byte[] buffer = new byte[2 * ReadSize];
    private int length;
    private int scanned;
    private bool quoted;
    private int rows;
    private int boundary;
    private int lines;
    private int boundaryLines;
    private byte[]? newline;
    private byte[]? quote;
    private byte[]? header;
    private int headerLines;
    private int nextLine = 1;
    private bool cutAny;

    private CsvPager(int rowsPerPage, long maxPageBytes)
    {
        this.rowsPerPage = rowsPerPage;
        this.maxPageBytes = maxPageBytes;
    }

    /// <summary>The pages of the file whose bytes <paramref name="read"/> returns (0 at its end).</summary>
    public static async IAsyncEnumerable<CsvPage> SplitAsync(Func<Memory<byte>, ValueTask<int>> read, string declaredEncoding, int rowsPerPage, long maxPageBytes,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerPage, 1);
        var pager = new CsvPager(rowsPerPage, maxPageBytes);
        int received;
        while ((received = await read(pager.FreeSpace())) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            pager.length += received;
            pager.DetectCharset(declaredEncoding, atEnd: false);
            while (pager.TryCut() is { } page)
            {
                yield return page;
            }
        }

        pager.DetectCharset(declaredEncoding, atEnd: true);
        while (pager.TryCut() is { } page)
        {
            yield return page;
        }

        if (pager.Rest() is { } last)
        {
            yield return last;
        }
    }

    /// <summary>The charset of a file that starts with <paramref name="start"/>, and the length of its byte order mark.</summary>
    public static (Encoding Encoding, int BomLength) Charset(ReadOnlySpan<byte> start, string declared) => start switch
    {
        [0xEF, 0xBB, 0xBF, ..] => (Encoding.UTF8, 3),
        [0xFF, 0xFE, ..] => (Encoding.Unicode, 2),
        [0xFE, 0xFF, ..] => (Encoding.BigEndianUnicode, 2),
        _ => (CsvSource.FindEncoding(declared) ?? Encoding.UTF8, 0),
    };

    private Memory<byte> FreeSpace()
    {
        if (buffer.Length - length < ReadSize)
        {
            Array.Resize(ref buffer, buffer.Length * 2);
        }

        return buffer.AsMemory(length, ReadSize);
    }

    /// <summary>Once the first bytes are in: the line break and quote in the charset's code units; scanning starts after the byte order mark.</summary>
    private void DetectCharset(string declared, bool atEnd)
    {
        if (newline is not null || (length < 3 && !atEnd))
        {
            return;
        }

        var (encoding, bom) = Charset(buffer.AsSpan(0, length), declared);
        newline = encoding.GetBytes("\n");
        quote = encoding.GetBytes("\"");
        scanned = Math.Min(bom, length);
    }

    /// <summary>Scans the bytes not yet looked at; returns a page when one is complete.</summary>
    private CsvPage? TryCut()
    {
        if (newline is null)
        {
            return null;
        }

        var data = buffer.AsSpan(0, length);
        while (NextQuoteOrLineBreak(data) is var at && at >= 0)
        {
            scanned = at + newline.Length;
            if (data.Slice(at, quote!.Length).SequenceEqual(quote))
            {
                quoted = !quoted;
            }
            else
            {
                lines++;
                if (quoted)
                {
                    continue;
                }

                if (header is null)
                {
                    header = data[..scanned].ToArray();
                    headerLines = lines;
                    nextLine = lines + 1;
                    Shift(scanned, lines);
                    data = buffer.AsSpan(0, length);
                    continue;
                }

                if (header.Length + scanned > maxPageBytes)
                {
                    // This row would make the page too large: the page ends before it, and the next one starts with it.
                    if (boundary == 0)
                    {
                        throw TooLong();
                    }

                    scanned = boundary;
                    lines = boundaryLines;
                    return Cut();
                }

                rows++;
                boundary = scanned;
                boundaryLines = lines;
                if (rows == rowsPerPage)
                {
                    return Cut();
                }
            }
        }

        if ((header?.Length ?? 0) + length > maxPageBytes)
        {
            return boundary > 0 ? Cut() : throw TooLong();
        }

        return null;
    }

    private AgencyResponseException TooLong() =>
        new($"a CSV row starting on line {nextLine} is longer than the page limit of {maxPageBytes} bytes (Connectors:MaxPageBytes), or a quote is never closed");

    /// <summary>
    /// The position of the next quote or line break at or after <see cref="scanned"/>, on a code unit boundary; -1
    /// (everything scanned) when none is there yet.
    /// </summary>
    private int NextQuoteOrLineBreak(ReadOnlySpan<byte> data)
    {
        var unit = newline!.Length;
        if (unit == 1)
        {
            var found = data[scanned..].IndexOfAny(quote![0], newline[0]);
            if (found < 0)
            {
                scanned = data.Length;
                return -1;
            }

            return scanned + found;
        }

        for (var at = scanned; at + unit <= data.Length; at += unit)
        {
            var codeUnit = data.Slice(at, unit);
            if (codeUnit.SequenceEqual(quote) || codeUnit.SequenceEqual(newline))
            {
                return at;
            }
        }

        scanned += (data.Length - scanned) / unit * unit;
        return -1;
    }

    /// <summary>What is left at the end of the file: the last rows (perhaps without a final line break), or the header alone.</summary>
    private CsvPage? Rest()
    {
        if (header is null)
        {
            // No line break at all: the file is its header (or empty).
            return new CsvPage(buffer[..length], 0);
        }

        if (length == 0 && cutAny)
        {
            return null;
        }

        boundary = length;
        boundaryLines = lines;
        return Cut();
    }

    private CsvPage Cut()
    {
        var page = new byte[header!.Length + boundary];
        header.CopyTo(page, 0);
        buffer.AsSpan(0, boundary).CopyTo(page.AsSpan(header.Length));
        var result = new CsvPage(page, nextLine - (headerLines + 1));
        nextLine += boundaryLines;
        Shift(boundary, boundaryLines);
        cutAny = true;
        return result;
    }

    /// <summary>Drops the first <paramref name="bytes"/> bytes (holding <paramref name="lineBreaks"/> line breaks) of the buffer.</summary>
    private void Shift(int bytes, int lineBreaks)
    {
        buffer.AsSpan(bytes, length - bytes).CopyTo(buffer);
        length -= bytes;
        scanned -= bytes;
        lines -= lineBreaks;
        rows = 0;
        boundary = 0;
        boundaryLines = 0;
    }
}
