using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Core.Catalog;

namespace Hub.Connectors.Privacy;

/// <summary>
/// Applies a dataset's personal-data marks (Decree 13/2023) to a valid record before it is hashed, sent or
/// stored: <c>drop</c> removes the field, <c>mask</c> keeps only its last three characters, <c>hash</c> replaces it
/// with an HMAC-SHA256 under the hub's secret key. Nothing marked reaches the open data tables, exports or events.
/// </summary>
public sealed class PersonalDataGuard
{
    private readonly SchemaColumn[] marked;
    private readonly byte[]? hashKey;

    public PersonalDataGuard(DatasetSchema schema, byte[]? hashKey)
    {
        ArgumentNullException.ThrowIfNull(schema);
        marked = schema.Columns.Where(c => c.Personal != PersonalData.None).ToArray();
        if (hashKey is null && marked.Any(c => c.Personal == PersonalData.Hash))
        {
            throw new InvalidOperationException(
                $"schema {schema.Path} marks fields \"x-personal-data\": \"hash\" but Privacy:HashKey is not set; set the secret key (environment Privacy__HashKey, at least 32 characters)");
        }

        this.hashKey = hashKey;
    }

    /// <summary>The record with every marked field dropped, masked or hashed; the record itself when nothing is marked.</summary>
    public JsonElement Protect(JsonElement record)
    {
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
            node[column.Name] = column.Personal == PersonalData.Mask ? Mask(text) : Hash(text);
        }

        return JsonSerializer.SerializeToElement(node);
    }

    public static string Mask(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var keep = value.Length > 6 ? 3 : 0;
        return new string('*', value.Length - keep) + value[^keep..];
    }

    private string Hash(string value) => Convert.ToHexStringLower(HMACSHA256.HashData(hashKey!, Encoding.UTF8.GetBytes(value)));
}
