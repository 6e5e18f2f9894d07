using Hub.Core.Catalog;
using NJsonSchema;

namespace Hub.Connectors.Configuration;

/// <summary>Reads a dataset's JSON Schema and derives the typed store columns from its top-level properties.</summary>
public static class SchemaColumns
{
    public static (DatasetSchema? Schema, string? Error) Parse(string path, string json, int version)
    {
        JsonSchema schema;
        try
        {
            schema = JsonSchema.FromJsonAsync(json, path).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is Newtonsoft.Json.JsonException or InvalidOperationException or NotSupportedException)
        {
            return (null, $"not a valid JSON Schema: {e.Message}");
        }

        if (!schema.Type.HasFlag(JsonObjectType.Object) || schema.ActualProperties.Count == 0)
        {
            return (null, "the schema must describe an object (\"type\": \"object\") with \"properties\"");
        }

        var columns = new List<SchemaColumn>();
        foreach (var (name, property) in schema.ActualProperties)
        {
            if (name.StartsWith('_') || name.Length > 60)
            {
                return (null, $"property '{name}' may not start with '_' (reserved for system columns) nor be longer than 60 characters");
            }

            var personal = PersonalData.None;
            if (property.ExtensionData?.TryGetValue("x-personal-data", out var mark) == true)
            {
                if (!Enum.TryParse(mark?.ToString(), ignoreCase: true, out personal) || personal == PersonalData.None)
                {
                    return (null, $"property '{name}' has \"x-personal-data\": \"{mark}\"; use \"drop\", \"mask\" or \"hash\"");
                }
            }

            // Masked and hashed values are text whatever the property's type.
            var type = personal is PersonalData.Mask or PersonalData.Hash ? ColumnType.Text : ColumnTypeOf(property.ActualSchema);
            columns.Add(new SchemaColumn(name, type, schema.RequiredProperties.Contains(name), personal));
        }

        return (new DatasetSchema(path, version, json, columns), null);
    }

    private static ColumnType ColumnTypeOf(JsonSchema property)
    {
        var type = property.Type & ~JsonObjectType.Null;
        return type switch
        {
            JsonObjectType.String when property.Format == "date" => ColumnType.Date,
            JsonObjectType.String when property.Format == "date-time" => ColumnType.DateTime,
            JsonObjectType.String => ColumnType.Text,
            JsonObjectType.Integer => ColumnType.Integer,
            JsonObjectType.Number => ColumnType.Number,
            JsonObjectType.Boolean => ColumnType.Boolean,
            _ => ColumnType.Json,
        };
    }
}
