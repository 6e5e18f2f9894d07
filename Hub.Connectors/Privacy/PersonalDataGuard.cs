using System.Buffers;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hub.Connectors.Pipeline;
using Hub.Core.Catalog;
using Hub.Core.Records;
using Hub.Core.Text;

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

    /// <summary>The names of <see cref="sorted"/> as the writer escapes them; null for a name that is not valid UTF-16.</summary>
    private readonly JsonEncodedText?[] sortedNames;

    /// <summary>Position in <see cref="sorted"/> by property name.</summary>
    private readonly FrozenDictionary<string, int> positions;

    /// <summary>The schema's properties in its own order (the order records mostly follow): UTF-8 name and position in <see cref="sorted"/>.</summary>
    private readonly (byte[]? Name, int Position)[] inSchemaOrder;

    /// <summary>Index in <see cref="inSchemaOrder"/> by position in <see cref="sorted"/>.</summary>
    private readonly int[] schemaIndex;

    /// <summary>The largest buffer a thread keeps for the next record.</summary>
    private const int MaxKeptBytes = 64 * 1024;

    [ThreadStatic]
    private static Scratch? threadScratch;

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
        sortedNames = [.. sorted.Select(c => Utf8Name.Of(c.Name) is null ? (JsonEncodedText?)null : JsonEncodedText.Encode(c.Name))];
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
        // The thread's writer and buffer, from record to record (a thread keeps no buffer grown past MaxKeptBytes).
        var scratch = threadScratch ??= new Scratch();
        scratch.Buffer.ResetWrittenCount();
        scratch.Writer.Reset(scratch.Buffer);
        try
        {
            if (record.ValueKind == JsonValueKind.Object)
            {
                WriteProjected(scratch, record);
            }
            else
            {
                RecordHash.WriteCanonical(scratch.Writer, record);
            }

            scratch.Writer.Flush();
            return scratch.Buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (scratch.Buffer.Capacity > MaxKeptBytes)
            {
                threadScratch = null;
            }
        }
    }

    public static string Mask(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return string.Create(value.Length, value, (masked, text) => Mask(text, masked));
    }

    /// <summary><paramref name="value"/> masked into <paramref name="masked"/> (as long): stars, then its last three characters when it has more than six.</summary>
    private static void Mask(ReadOnlySpan<char> value, Span<char> masked)
    {
        var keep = value.Length > 6 ? 3 : 0;
        masked[..^keep].Fill('*');
        value[^keep..].CopyTo(masked[^keep..]);
    }

    private void WriteProjected(Scratch scratch, JsonElement record)
    {
        var writer = scratch.Writer;
        if (scratch.Values.Length < sorted.Length)
        {
            scratch.Values = new JsonElement[sorted.Length];
        }

        var values = scratch.Values;
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
                Array.Clear(values);
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
                WriteProperty(writer, i, values[i]);
            }
        }

        writer.WriteEndObject();
        Array.Clear(values); // the thread keeps no record's document alive
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

    private void WriteProperty(Utf8JsonWriter writer, int position, JsonElement value)
    {
        var column = sorted[position];
        if (column.Personal == PersonalData.None)
        {
            if (sortedNames[position] is { } name)
            {
                writer.WritePropertyName(name);
            }
            else
            {
                writer.WritePropertyName(column.Name);
            }

            RecordHash.WriteCanonical(writer, value);
            return;
        }

        if (column.Personal == PersonalData.Drop || value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (column.Personal == PersonalData.Mask && value.ValueKind == JsonValueKind.String
            && Utf8String.TryGetUnescaped(value, out var utf8) && utf8.Length <= Utf8String.StackBytes)
        {
            // Masked on the stack: the same characters as Mask(value.GetString()).
            Span<char> chars = stackalloc char[utf8.Length];
            if (Utf8String.TryDecode(utf8, chars, out var length))
            {
                Mask(chars[..length], chars[..length]);
                if (sortedNames[position] is { } name)
                {
                    writer.WriteString(name, chars[..length]);
                }
                else
                {
                    writer.WriteString(column.Name, chars[..length]);
                }

                return;
            }
        }

        // A value that is not a string is protected as its JSON text.
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : JsonSerializer.Serialize(value);
        writer.WriteString(column.Name, column.Personal == PersonalData.Mask ? Mask(text) : Hash(text));
    }

    /// <summary>A thread's writer and buffer for <see cref="CanonicalJson"/>, and room for a record's values.</summary>
    private sealed class Scratch
    {
        public Scratch() => Writer = new Utf8JsonWriter(Buffer);

        public ArrayBufferWriter<byte> Buffer { get; } = new(1024);

        public Utf8JsonWriter Writer { get; }

        public JsonElement[] Values { get; set; } = [];
    }

    private string Hash(string value) => Convert.ToHexStringLower(HMACSHA256.HashData(hashKey!, Encoding.UTF8.GetBytes(value)));
}
