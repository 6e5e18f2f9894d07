using System.Buffers;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hub.Connectors.Pipeline;
using Hub.Core.Catalog;
using Hub.Core.Records;

namespace Hub.Connectors.Privacy;

/// <summary>
/// Applies a dataset's personal-data marks (Decree 13/2023) to a valid record before it is hashed, sent or
/// stored: <c>drop</c> removes the field, <c>mask</c> keeps only its last three characters, <c>hash</c> replaces it
/// with an HMAC-SHA256 under the hub's secret key. Nothing marked reaches the open data tables, exports or events.
/// </summary>
public sealed class PersonalDataGuard
{
    /// <summary>The schema's properties sorted by ordinal name (the canonical order), with their marks.</summary>
    private readonly SchemaColumn[] sorted;

    /// <summary>Position in <see cref="sorted"/> by property name.</summary>
    private readonly FrozenDictionary<string, int> positions;

    /// <summary>The schema's properties in its own order (the order records mostly follow): UTF-8 name and position in <see cref="sorted"/>.</summary>
    private readonly (byte[]? Name, int Position)[] inSchemaOrder;

    /// <summary>Index in <see cref="inSchemaOrder"/> by position in <see cref="sorted"/>.</summary>
    private readonly int[] schemaIndex;

    private readonly bool anyMarked;
    private readonly byte[]? hashKey;

    public PersonalDataGuard(DatasetSchema schema, byte[]? hashKey)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (hashKey is null && schema.Columns.Any(c => c.Personal == PersonalData.Hash))
        {
            throw new InvalidOperationException(
                $"schema {schema.Path} marks fields \"x-personal-data\": \"hash\" but Privacy:HashKey is not set; set the secret key (environment Privacy__HashKey, at least 32 characters)");
        }

        sorted = [.. schema.Columns.OrderBy(c => c.Name, StringComparer.Ordinal)];
        positions = sorted.Select((c, i) => (c.Name, i)).ToFrozenDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        inSchemaOrder = [.. schema.Columns.Select(c => (Utf8Name.Of(c.Name), positions[c.Name]))];
        schemaIndex = new int[sorted.Length];
        for (var i = 0; i < inSchemaOrder.Length; i++)
        {
            schemaIndex[inSchemaOrder[i].Position] = i;
        }

        anyMarked = sorted.Any(c => c.Personal != PersonalData.None);
        this.hashKey = hashKey;
    }

    /// <summary>
    /// What is hashed and published of a record, in one pass: an object record projected onto the schema's properties
    /// (a field the schema does not declare is left out), every marked field dropped, masked or hashed, as canonical
    /// JSON (<see cref="RecordHash"/>: properties sorted by ordinal name at every depth, no white space). A record that
    /// is not an object is written whole. Throws <see cref="ArgumentException"/> when a record of a dataset with
    /// marked fields gives one of the schema's properties twice.
    /// </summary>
    public byte[] CanonicalJson(JsonElement record)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (record.ValueKind == JsonValueKind.Object)
            {
                WriteProjected(writer, record);
            }
            else
            {
                RecordHash.WriteCanonical(writer, record);
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static string Mask(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var keep = value.Length > 6 ? 3 : 0;
        return new string('*', value.Length - keep) + value[^keep..];
    }

    private void WriteProjected(Utf8JsonWriter writer, JsonElement record)
    {
        var values = new JsonElement[sorted.Length];
        var present = sorted.Length <= 256 ? stackalloc bool[sorted.Length] : new bool[sorted.Length];
        var next = 0;
        foreach (var property in record.EnumerateObject())
        {
            int position;
            if (next < inSchemaOrder.Length && inSchemaOrder[next].Name is { } expected && property.NameEquals(expected))
            {
                position = inSchemaOrder[next++].Position;
            }
            else if (!positions.TryGetValue(property.Name, out position))
            {
                continue;
            }
            else
            {
                next = schemaIndex[position] + 1;
            }

            if (present[position])
            {
                WriteWithRepeatedProperties(writer, record, property.Name);
                return;
            }

            present[position] = true;
            values[position] = property.Value;
        }

        writer.WriteStartObject();
        for (var i = 0; i < sorted.Length; i++)
        {
            if (present[i])
            {
                WriteProperty(writer, sorted[i], values[i]);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// A record that gives a schema property twice: without marks each occurrence is written, in the record's order
    /// among equal names; with marks the record is refused, as the marks could not say which occurrence to protect.
    /// </summary>
    private void WriteWithRepeatedProperties(Utf8JsonWriter writer, JsonElement record, string name)
    {
        if (anyMarked)
        {
            throw new ArgumentException($"the record has the property '{name}' more than once", nameof(record));
        }

        writer.WriteStartObject();
        foreach (var property in record.EnumerateObject().Where(p => positions.ContainsKey(p.Name)).OrderBy(p => positions[p.Name]))
        {
            writer.WritePropertyName(property.Name);
            RecordHash.WriteCanonical(writer, property.Value);
        }

        writer.WriteEndObject();
    }

    private void WriteProperty(Utf8JsonWriter writer, SchemaColumn column, JsonElement value)
    {
        if (column.Personal == PersonalData.None)
        {
            writer.WritePropertyName(column.Name);
            RecordHash.WriteCanonical(writer, value);
            return;
        }

        if (column.Personal == PersonalData.Drop || value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        // A value that is not a string is protected as its JSON text.
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : JsonSerializer.Serialize(value);
        writer.WriteString(column.Name, column.Personal == PersonalData.Mask ? Mask(text) : Hash(text));
    }

    private string Hash(string value) => Convert.ToHexStringLower(HMACSHA256.HashData(hashKey!, Encoding.UTF8.GetBytes(value)));
}
