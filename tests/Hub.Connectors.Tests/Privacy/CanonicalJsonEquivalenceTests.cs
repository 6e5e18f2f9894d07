using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors.Configuration;
using Hub.Connectors.Privacy;
using Hub.Connectors.Tests.Validation;
using Hub.Core.Catalog;
using Hub.Core.Records;
using Xunit.Abstractions;

namespace Hub.Connectors.Tests.Privacy;

/// <summary>
/// The one-pass canonical JSON of a protected record is byte for byte what the hub wrote before (the record protected
/// as a <see cref="JsonObject"/>, serialised, projected onto the schema and sorted), so no stored hash changes on
/// upgrade: every record of the corpus of every schema of the repository, through both.
/// </summary>
public class CanonicalJsonEquivalenceTests(ITestOutputHelper output)
{
    private static readonly byte[] Key = "a-test-key-that-is-long-enough-0123456789"u8.ToArray();

    [Fact]
    public void Every_record_of_the_corpus_is_written_as_before()
    {
        var records = 0;
        var marked = 0;
        var differences = new List<string>();
        foreach (var (name, schemaJson, _) in SchemaCorpus.Schemas())
        {
            var (schema, error) = SchemaColumns.Parse(name, schemaJson, 1);
            Assert.True(error is null, $"{name}: {error}");
            var guard = new PersonalDataGuard(schema!, Key);
            marked += schema!.Columns.Any(c => c.Personal != PersonalData.None) ? 1 : 0;
            foreach (var text in SchemaCorpus.Records(schemaJson).Distinct(StringComparer.Ordinal))
            {
                var record = JsonDocument.Parse(text).RootElement;
                var before = Outcome(() => Before(schema, record));
                var now = Outcome(() => guard.CanonicalJson(record));
                records++;
                if (before == "refused" && RepeatsOnlyPropertiesOutsideTheSchema(schema, record))
                {
                    // Before, a repeated property the schema does not declare made the record fail too; it is not published, so now it is ignored.
                    continue;
                }

                if (before != now)
                {
                    differences.Add($"{name}: {text}\n  before: {before}\n  now:    {now}");
                }
            }
        }

        output.WriteLine($"{records} records of {marked} schemas with marked fields and others; {differences.Count} differ");
        Assert.True(marked >= 3, "the corpus should have schemas with marked fields");
        Assert.True(records > 5000, $"only {records} records");
        Assert.True(differences.Count == 0, string.Join("\n", differences.Take(20)));
    }

    [Fact]
    public void Non_ascii_text_is_escaped_as_before_and_nested_objects_are_sorted()
    {
        var (schema, _) = SchemaColumns.Parse("s.json", """{"type":"object","properties":{"b":{"type":"object"},"a":{"type":"string","x-personal-data":"mask"}}}""", 1);
        var record = JsonDocument.Parse("""{"b":{"z":"Đô <&>","y":[{"d":1,"c":"\u00e9"}]},"a":"Nguyễn Văn Ánh","x":1}""").RootElement;

        var json = Encoding.UTF8.GetString(new PersonalDataGuard(schema!, null).CanonicalJson(record));

        Assert.Equal("""{"a":"***********\u00C1nh","b":{"y":[{"c":"\u00E9","d":1}],"z":"\u0110\u00F4 \u003C\u0026\u003E"}}""", json);
    }

    /// <summary>The JSON written, or "refused" (a string that is not valid UTF-16 cannot be written, a property given twice cannot be protected).</summary>
    private static string Outcome(Func<byte[]> write)
    {
        try
        {
            return Encoding.UTF8.GetString(write());
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or JsonException)
        {
            return "refused";
        }
    }

    private static bool RepeatsOnlyPropertiesOutsideTheSchema(DatasetSchema schema, JsonElement record) =>
        record.ValueKind == JsonValueKind.Object
        && record.EnumerateObject().GroupBy(p => p.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).All(g => schema.Columns.All(c => c.Name != g.Key));

    /// <summary>The canonical JSON as the hub wrote it before: <c>RecordHash.CanonicalJson(guard.Protect(record), properties)</c>.</summary>
    private static byte[] Before(DatasetSchema schema, JsonElement record)
    {
        var protectedRecord = ProtectBefore(schema, record);
        var properties = schema.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (protectedRecord.ValueKind == JsonValueKind.Object)
            {
                writer.WriteStartObject();
                foreach (var property in protectedRecord.EnumerateObject().Where(p => properties.Contains(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    RecordHash.WriteCanonical(writer, property.Value);
                }

                writer.WriteEndObject();
            }
            else
            {
                RecordHash.WriteCanonical(writer, protectedRecord);
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static JsonElement ProtectBefore(DatasetSchema schema, JsonElement record)
    {
        var marked = schema.Columns.Where(c => c.Personal != PersonalData.None).ToArray();
        if (marked.Length == 0 || record.ValueKind != JsonValueKind.Object)
        {
            return record;
        }

        var node = JsonObject.Create(record)!;
        foreach (var column in marked)
        {
            if (!node.TryGetPropertyValue(column.Name, out var value))
            {
                continue;
            }

            if (column.Personal == PersonalData.Drop || value is null)
            {
                node.Remove(column.Name);
                continue;
            }

            var text = value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();
            node[column.Name] = column.Personal == PersonalData.Mask
                ? PersonalDataGuard.Mask(text)
                : Convert.ToHexStringLower(HMACSHA256.HashData(Key, Encoding.UTF8.GetBytes(text)));
        }

        return JsonSerializer.SerializeToElement(node);
    }
}
