namespace Hub.Core.Catalog;

/// <summary>The JSON Schema of a dataset, its version and the typed columns derived from it.</summary>
public sealed record DatasetSchema(string Path, int Version, string Json, IReadOnlyList<SchemaColumn> Columns);

/// <summary>A top-level property of a dataset's records and the store type it maps to.</summary>
public sealed record SchemaColumn(string Name, ColumnType Type, bool Required);

public enum ColumnType
{
    Text,
    Integer,
    Number,
    Boolean,
    Date,
    DateTime,
    Json,
}
