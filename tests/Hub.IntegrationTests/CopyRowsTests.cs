using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Hub.Core.Messages;
using Dapper;
using Hub.Core.Records;
using Hub.Worker.Store;
using Npgsql;

namespace Hub.IntegrationTests;

/// <summary>
/// The COPY rows written from a record's UTF-8 JSON. In text, compared with the same rows made the way they were before,
/// from .NET strings (the value's decoded text or JSON text, escaped for COPY): raw and escaped strings, non-ASCII and
/// supplementary characters, backslashes and COPY's own escapes, jsonb columns, absent, null and repeated properties. In
/// binary, compared in PostgreSQL with what its input functions make of the text rows.
/// </summary>
[Collection(HubTestGroup.Name)]
public sealed class CopyRowsTests(HubFixture hub)
{
    private static readonly TableColumn[] Columns =
    [
        new("ghi_chu", "text"), new("so", "text"), new("dem", "text"), new("co", "text"), new("chi_tiet", "jsonb"), new("nhan", "jsonb"),
        new("ghi_chu_json", "jsonb"), new("khong_co", "text"), new("doi_tuong", "text"), new("tên", "text"),
    ];

    private static readonly string[] Texts =
    [
        "tab\there\nnew line \\ back\r\n \"quoted\" – Phước", "\\N", "\\", "", "  Đà Lạt\u00A0", "😀 𝔘 emoji", "<b>&amp;'+`</b>",
        "\u0001\u001f\b\f control", "plain ascii", "Hồ sơ đã được tiếp nhận tại Bộ phận Một cửa", new string('x', 1500) + "\t" + string.Concat(Enumerable.Repeat("Đ\\", 800)),
    ];

    [Fact]
    public void Rows_from_utf8_json_are_the_rows_made_from_net_strings()
    {
        var records = new List<ValidRecord>();
        for (var i = 0; i < Texts.Length; i++)
        {
            // As canonical JSON writes it (non-ASCII escaped) and as an agency may send it (UTF-8 as is).
            records.Add(new ValidRecord($"k{i}", new string('a', 64), Written(JavaScriptEncoder.Default, Texts[i], i)));
            records.Add(new ValidRecord(Texts[i].Length > 0 ? Texts[i] : "k", new string('b', 64), Written(JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Texts[i], i)));
        }

        records.Add(new ValidRecord("A\t3\\N", new string('c', 64), """
            {"dem":1,"chi_tiet":{"b":[1,2.5,{"c":"x\ty"}],"a":null},"ghi_chu":"\/slash \u0041 \\t \ud83d\ude00","nhan":["x","y\\z",3],
             "so":-0.5e3,"co":true,"dem":2,"doi_tuong":{"k":"v\\w"},"ngoai":"no column","t\u00EAn":"T\u00EAn","ghi_chu_json":"a\\b\u00e9"}
            """u8.ToArray()));
        records.Add(new ValidRecord("khóa\r\n", new string('d', 64), null));
        records.Add(ValidRecord.Deletion("xóa\t"));
        records.Add(new ValidRecord("rong", new string('e', 64), "{}"u8.ToArray()));
        records.Add(new ValidRecord("null", new string('f', 64), """{"ghi_chu":null,"chi_tiet":null,"co":false,"so":0,"nhan":[],"doi_tuong":[]}"""u8.ToArray()));

        var rows = new CopyRows(Columns);
        var output = new ArrayBufferWriter<byte>();
        var expected = new StringBuilder();
        for (var ordinal = 0; ordinal < records.Count; ordinal++)
        {
            rows.WriteText(output, records[ordinal], 7, ordinal);
            expected.Append(Reference(records[ordinal], 7, ordinal));
        }

        var actual = output.WrittenSpan.ToArray();
        Assert.Equal(expected.ToString(), Encoding.UTF8.GetString(actual));
        Assert.Equal(Encoding.UTF8.GetBytes(expected.ToString()), actual);
    }

    [Theory]
    [InlineData("""{"ghi_chu":"\ud83d x"}""")]
    [InlineData("""{"ghi_chu":"x \ude00"}""")]
    public void A_surrogate_without_its_pair_is_refused_with_the_reason(string json)
    {
        var record = new ValidRecord("k", new string('a', 64), Encoding.UTF8.GetBytes(json));
        var error = Assert.Throws<JsonException>(() => new CopyRows(Columns).WriteText(new ArrayBufferWriter<byte>(), record, 0, 0));
        Assert.Contains("\\u", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Values of each type, as a JSON property; true for those written in binary, false for those left to PostgreSQL's text input.</summary>
    public static readonly (string Property, bool Binary)[] TypedValues =
    [
        ("\"n\":0", true), ("\"n\":-0", true), ("\"n\":0.0", true), ("\"n\":0.000", true), ("\"n\":-1", true), ("\"n\":1.5", true),
        ("\"n\":349500.00", true), ("\"n\":1e3", true), ("\"n\":1.50e1", true), ("\"n\":-1.5E-3", true), ("\"n\":1E+2", true),
        ("\"n\":12345678901234567890.123456789012", true), ("\"n\":0.0001", true), ("\"n\":100000000", true), ("\"n\":9999.9999", true),
        ("\"n\":10000", true), ("\"n\":1e-20", true), ("\"n\":123.456e2", true), ("\"n\":5e0", true), ("\"n\":-0.00012e-3", true), ("\"n\":0e5", true), ("\"n\":0.0e-3", true), ("\"n\":-0.0", true), ("\"n\":99999999e-4", true),
        ("\"n\":\"1.5\"", false),
        ("\"i\":0", true), ("\"i\":-1", true), ("\"i\":42", true), ("\"i\":9223372036854775807", true), ("\"i\":-9223372036854775808", true),
        ("\"i\":\"42\"", false),
        ("\"b\":true", true), ("\"b\":false", true), ("\"b\":\"yes\"", false),
        ("\"d\":\"2021-04-05\"", true), ("\"d\":\"0001-01-01\"", true), ("\"d\":\"9999-12-31\"", true), ("\"d\":\"1999-12-31\"", true),
        ("\"d\":\"2000-01-01\"", true), ("\"d\":\"2024-02-29\"", true), ("\"d\":\"1900-03-01\"", true), ("\"d\":\"2021-4-5\"", false),
        ("\"m\":\"2021-04-05T15:57:02+07:00\"", true), ("\"m\":\"2021-04-05T15:57:02Z\"", true), ("\"m\":\"2021-04-05T15:57:02.123456-03:30\"", true),
        ("\"m\":\"2021-04-05T15:57:02.5+00:00\"", true), ("\"m\":\"1969-12-31T23:59:59.999999Z\"", true), ("\"m\":\"2000-01-01T00:00:00Z\"", true),
        ("\"m\":\"0001-01-01T00:00:00+01:00\"", true), ("\"m\":\"9999-12-31T23:59:59.999999-14:00\"", true), ("\"m\":\"2024-02-29T12:00:00.07+14:00\"", true),
        ("\"m\":\"2016-12-31T23:59:60Z\"", false), ("\"m\":\"2021-04-05 15:57:02+07\"", false), ("\"m\":\"2021-04-05T15:57:02.1234567Z\"", true),
        ("\"m\":\"2021-04-05T15:57:59.9999995+07:00\"", true), ("\"m\":\"2021-04-05T15:57:02.0000005Z\"", true), ("\"m\":\"2021-04-05T15:57:02.0000015Z\"", true),
        ("\"m\":\"2021-04-05T15:57:02.123456789012345678Z\"", true),
        ("\"t\":\"Đà Lạt \\u00e9 \\t tab \\\\ \\ud83d\\ude00\"", true), ("\"t\":12.50", true), ("\"t\":true", true), ("\"t\":{\"a\":[1,\"x\"]}", true),
        ("\"j\":{\"a\":[1,\"x\\ny\"],\"b\":null}", true), ("\"j\":\"chuỗi\"", true), ("\"j\":-1.5e3", true), ("\"j\":[]", true),
    ];

    [Fact]
    public async Task Rows_written_in_binary_are_stored_as_postgresql_reads_the_same_rows_in_text()
    {
        TableColumn[] columns = [new("t", "text"), new("j", "jsonb"), new("i", "bigint"), new("n", "numeric"), new("b", "boolean"), new("d", "date"), new("m", "timestamp with time zone")];
        Guid binaryRun = Guid.NewGuid(), textRun = Guid.NewGuid();
        await using var connection = new NpgsqlConnection(hub.ConnectionString);
        await connection.OpenAsync();
        foreach (var run in new[] { binaryRun, textRun })
        {
            await connection.ExecuteAsync(
                $"create unlogged table {StagingTable.Of(run)} (t text, j jsonb, i bigint, n numeric, b boolean, d date, m timestamptz, _key text collate \"C\", _hash text, _sequence int, _ordinal int, _changed boolean, _deleted boolean)");
        }

        var inText = new List<string>();
        for (var i = 0; i < TypedValues.Length; i++)
        {
            // One batch a value, after a first row that has a binary form, as the writer stages them: in binary, or again
            // in text when a value has no binary form. The value as the checker writes it: canonical JSON, which escapes
            // non-ASCII and '+' (in an offset: \u002B07:00).
            using var record = JsonDocument.Parse($"{{{TypedValues[i].Property}}}");
            ValidRecord[] batch = [new($"k{i:00}a", new string('a', 64), """{"t":"first"}"""u8.ToArray()), new($"k{i:00}b", new string('a', 64), RecordHash.CanonicalJson(record.RootElement))];
            try
            {
                await StagingTable.CopyAsync(connection, binaryRun, columns, i, batch, binary: true, CancellationToken.None);
            }
            catch (NoBinaryFormException)
            {
                inText.Add(TypedValues[i].Property);
                await StagingTable.CopyAsync(connection, binaryRun, columns, i, batch, binary: false, CancellationToken.None);
            }

            await StagingTable.CopyAsync(connection, textRun, columns, i, batch, binary: false, CancellationToken.None);
        }

        // A batch whose first row has no binary form goes to text without a COPY to cancel; and rows without values.
        ValidRecord[] last =
        [
            new("z1", new string('c', 64), """{"d":"2021-4-5"}"""u8.ToArray()), new("z2", new string('c', 64), """{"d":"2021-04-05"}"""u8.ToArray()),
            new("unchanged", new string('b', 64), null), ValidRecord.Deletion("deleted"),
        ];
        await StagingTable.CopyAsync(connection, binaryRun, columns, 99, last, binary: true, CancellationToken.None);
        await StagingTable.CopyAsync(connection, textRun, columns, 99, last, binary: false, CancellationToken.None);

        Assert.Equal(TypedValues.Where(v => !v.Binary).Select(v => v.Property), inText);
        var binaryRows = (await connection.QueryAsync<string>($"select staged::text from {StagingTable.Of(binaryRun)} staged order by _key")).ToList();
        var textRows = (await connection.QueryAsync<string>($"select staged::text from {StagingTable.Of(textRun)} staged order by _key")).ToList();
        Assert.Equal((2 * TypedValues.Length) + last.Length, textRows.Count);
        Assert.Equal(textRows, binaryRows);
    }

    /// <summary>A record whose text columns, jsonb column and key carry <paramref name="text"/>, written with <paramref name="encoder"/>.</summary>
    private static byte[] Written(JavaScriptEncoder encoder, string text, int number)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = encoder }))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("co", number % 2 == 0);
            writer.WriteNumber("dem", number);
            writer.WriteString("ghi_chu", text);
            writer.WriteString("ghi_chu_json", text);
            writer.WriteStartArray("nhan");
            writer.WriteStringValue(text);
            writer.WriteEndArray();
            writer.WriteNumber("so", number * 1.25m);
            writer.WriteString("tên", text);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The row as it was made from .NET strings: each value's text (a string's decoded text, else its JSON text) escaped for COPY.</summary>
    private static string Reference(ValidRecord record, int sequence, int ordinal)
    {
        var text = new StringBuilder();
        if (record.Json is null)
        {
            text.Append(string.Concat(Enumerable.Repeat("\\N\t", Columns.Length)));
        }
        else
        {
            using var document = JsonDocument.Parse(record.Json);
            var values = new JsonElement?[Columns.Length];
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var at = Array.FindIndex(Columns, c => c.Name == property.Name);
                if (at >= 0)
                {
                    values[at] = property.Value;
                }
            }

            for (var i = 0; i < Columns.Length; i++)
            {
                text.Append(values[i] switch
                {
                    null or { ValueKind: JsonValueKind.Null } => "\\N",
                    { ValueKind: JsonValueKind.String } s when Columns[i].Type != "jsonb" => Escaped(s.GetString()!),
                    { } other => Escaped(other.GetRawText()),
                }).Append('\t');
            }
        }

        return text.Append(Escaped(record.Key)).Append('\t').Append(record.Hash).Append('\t').Append(sequence).Append('\t').Append(ordinal)
            .Append('\t').Append(record.Json is null && !record.Deleted ? 'f' : 't').Append('\t').Append(record.Deleted ? 't' : 'f').Append('\n').ToString();
    }

    private static string Escaped(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);
}
