using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Hub.Core.Catalog;
using Microsoft.Extensions.Options;

namespace Hub.Connectors.Http;

/// <summary>
/// Reads a CSV file as it arrives and turns each row into a JSON object of strings named by the header row, in
/// pages of <see cref="CsvSourceDefinition.PageRows"/> rows (<see cref="CsvPager"/>), so a file of any size is read
/// in flat memory. The charset is the declared one unless the file starts with a byte order mark; text is
/// normalised to NFC (Windows-1258 writes Vietnamese with combining accents).
/// </summary>
public sealed class CsvSource(AgencyHttp http, IOptions<ConnectorOptions> options) : IRecordSource
{
    static CsvSource() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public string Kind => "csv";

    /// <summary>The encoding named <paramref name="name"/> (<c>utf-8</c>, <c>utf-16</c>, <c>windows-1258</c>...), or null if unknown.</summary>
    public static Encoding? FindEncoding(string name)
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        try
        {
            return Encoding.GetEncoding(name);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    public async IAsyncEnumerable<FetchedPage> FetchAsync(SourceDefinition definition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var source = (CsvSourceDefinition)definition;
        await using var answer = await http.StreamAsync(source, HttpMethod.Get, source.Url, () => null, r => r.Headers.Accept.ParseAdd("text/csv"), cancellationToken);
        if (answer.Head.IsMediaType("html", "json"))
        {
            throw new AgencyResponseException($"{answer.Head.Url} did not return CSV ({answer.Head.MediaType}): probably an error page");
        }

        await foreach (var page in CsvPager.SplitAsync(answer.ReadAsync, source.Encoding, source.PageRows, options.Value.MaxPageBytes, cancellationToken))
        {
            var response = new AgencyResponse(answer.Head, page.Bytes);
            yield return FetchedPage.FromObjects(response, Rows(Decode(page.Bytes, source.Encoding), source.Delimiter, response.Url, page.LineOffset));
        }
    }

    public static string Decode(byte[] payload, string declared)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var (encoding, bom) = CsvPager.Charset(payload, declared);
        return encoding.GetString(payload, bom, payload.Length - bom).Normalize(NormalizationForm.FormC);
    }

    private static JsonArray Rows(string text, char delimiter, Uri url, int lineOffset)
    {
        var rows = CsvParser.Parse(text, delimiter).ToList();
        var records = new JsonArray();
        if (rows.Count == 0)
        {
            return records;
        }

        var header = rows[0].Fields;
        for (var i = 1; i < rows.Count; i++)
        {
            var (line, fields) = rows[i];
            if (fields.Count != header.Count)
            {
                throw new AgencyResponseException($"{url}: the CSV row at line {line + lineOffset} has {fields.Count} fields, the header has {header.Count}");
            }

            var record = new JsonObject();
            for (var f = 0; f < header.Count; f++)
            {
                record[header[f]] = fields[f];
            }

            records.Add(record);
        }

        return records;
    }
}

/// <summary>An RFC 4180 reader: quoted fields may hold the delimiter, line breaks and doubled quotes; CRLF or LF ends a row.</summary>
public static class CsvParser
{
    public static IEnumerable<(int Line, IReadOnlyList<string> Fields)> Parse(string text, char delimiter = ',')
    {
        ArgumentNullException.ThrowIfNull(text);
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, rowLine = 1, i = 0;
        var quoted = false;
        var rowHasContent = false;
        while (i < text.Length)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i += 2;
                        continue;
                    }

                    quoted = false;
                }
                else
                {
                    if (c == '\n')
                    {
                        line++;
                    }

                    field.Append(c);
                }

                i++;
                continue;
            }

            if (c == '"' && field.Length == 0)
            {
                quoted = true;
                rowHasContent = true;
            }
            else if (c == delimiter)
            {
                fields.Add(field.ToString());
                field.Clear();
                rowHasContent = true;
            }
            else if (c is '\r' or '\n')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                if (rowHasContent || field.Length > 0)
                {
                    fields.Add(field.ToString());
                    yield return (rowLine, fields);
                    fields = [];
                }

                field.Clear();
                rowHasContent = false;
                line++;
                rowLine = line;
            }
            else
            {
                field.Append(c);
                rowHasContent = true;
            }

            i++;
        }

        if (quoted)
        {
            throw new AgencyResponseException($"the CSV ends inside a quoted field that starts on line {rowLine}");
        }

        if (rowHasContent || field.Length > 0)
        {
            fields.Add(field.ToString());
            yield return (rowLine, fields);
        }
    }
}
