using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Hub.Core.Catalog;

namespace Hub.Connectors.Http;

/// <summary>
/// Fetches a CSV file in one request and turns each row into a JSON object of strings named by the header
/// row. The charset is the declared one unless the file starts with a byte order mark; text is normalised to NFC
/// (Windows-1258 writes Vietnamese with combining accents).
/// </summary>
public sealed class CsvSource(AgencyHttp http) : IRecordSource
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
        var response = await http.SendAsync(source, HttpMethod.Get, source.Url, () => null, r => r.Headers.Accept.ParseAdd("text/csv"), cancellationToken);
        if (response.IsMediaType("html", "json"))
        {
            throw new AgencyResponseException($"{response.Url} did not return CSV ({response.MediaType}): probably an error page");
        }

        yield return FetchedPage.FromObjects(response, Rows(Decode(response.Payload, source.Encoding), source.Delimiter, response.Url));
    }

    public static string Decode(byte[] payload, string declared)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var text = payload switch
        {
            [0xEF, 0xBB, 0xBF, ..] => Encoding.UTF8.GetString(payload, 3, payload.Length - 3),
            [0xFF, 0xFE, ..] => Encoding.Unicode.GetString(payload, 2, payload.Length - 2),
            [0xFE, 0xFF, ..] => Encoding.BigEndianUnicode.GetString(payload, 2, payload.Length - 2),
            _ => (FindEncoding(declared) ?? Encoding.UTF8).GetString(payload),
        };
        return text.Normalize(NormalizationForm.FormC);
    }

    private static JsonArray Rows(string text, char delimiter, Uri url)
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
                throw new AgencyResponseException($"{url}: the CSV row at line {line} has {fields.Count} fields, the header has {header.Count}");
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
