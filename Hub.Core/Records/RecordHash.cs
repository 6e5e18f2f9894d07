using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Hub.Core.Records;

/// <summary>
/// Content hash of a record: SHA-256 over its canonical JSON (object properties sorted by ordinal name,
/// no insignificant white space), so the same content always hashes the same whatever the agency's
/// property order or formatting. A dataset's record is hashed projected onto its schema's properties (what the typed
/// table stores) with personal data protected, written in this canonical form by the connectors' personal-data guard:
/// a field the schema does not declare neither changes the hash nor is published.
/// </summary>
public static class RecordHash
{
    /// <summary>The record as canonical UTF-8 JSON.</summary>
    public static byte[] CanonicalJson(JsonElement record)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteCanonical(writer, record);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Lower-case hex SHA-256 of canonical JSON bytes.</summary>
    public static string HashHex(ReadOnlySpan<byte> canonicalJson) => Convert.ToHexStringLower(SHA256.HashData(canonicalJson));

    /// <summary>Lower-case hex SHA-256 of the record's canonical JSON.</summary>
    public static string ComputeHex(JsonElement record) => HashHex(CanonicalJson(record));

    /// <summary>Writes <paramref name="element"/> in canonical form.</summary>
    public static void WriteCanonical(Utf8JsonWriter writer, JsonElement element)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(writer, element.EnumerateObject());
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteCanonical(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

    private static void WriteObject(Utf8JsonWriter writer, IEnumerable<JsonProperty> properties)
    {
        writer.WriteStartObject();
        foreach (var property in properties.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            writer.WritePropertyName(property.Name);
            WriteCanonical(writer, property.Value);
        }

        writer.WriteEndObject();
    }
}
