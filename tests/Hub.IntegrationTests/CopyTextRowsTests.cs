using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Hub.Core.Messages;
using Hub.Worker.Store;

namespace Hub.IntegrationTests;

/// <summary>
/// The COPY rows written from a record's UTF-8 JSON, compared with the same rows made the way they were before, from
/// .NET strings (the value's decoded text or JSON text, escaped for COPY): raw and escaped strings, non-ASCII and
/// supplementary characters, backslashes and COPY's own escapes, jsonb columns, absent, null and repeated properties.
/// </summary>
public sealed class CopyTextRowsTests
{
    private static readonly TableColumn[] Columns =
    [
        new("ghi_chu", false), new("so", false), new("dem", false), new("co", false), new("chi_tiet", true), new("nhan", true),
        new("ghi_chu_json", true), new("khong_co", false), new("doi_tuong", false), new("tên", false),
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

        var rows = new CopyTextRows(Columns);
        var output = new ArrayBufferWriter<byte>();
        var expected = new StringBuilder();
        for (var ordinal = 0; ordinal < records.Count; ordinal++)
        {
            rows.Write(output, records[ordinal], 7, ordinal);
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
        var error = Assert.Throws<JsonException>(() => new CopyTextRows(Columns).Write(new ArrayBufferWriter<byte>(), record, 0, 0));
        Assert.Contains("\\u", error.Message, StringComparison.Ordinal);
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
                    { ValueKind: JsonValueKind.String } s when !Columns[i].IsJson => Escaped(s.GetString()!),
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
