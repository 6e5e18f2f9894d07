namespace Hub.Core.Catalog;

/// <summary>The JSON Schema of a dataset, its version and the typed columns derived from it.</summary>
public sealed record DatasetSchema(string Path, int Version, string Json, IReadOnlyList<SchemaColumn> Columns);

/// <summary>
/// A top-level property of a dataset's records, the store type it maps to, and how it is protected when it is
/// personal data (Decree 13/2023), from the schema annotation <c>"x-personal-data"</c>.
/// </summary>
public sealed record SchemaColumn(string Name, ColumnType Type, bool Required, PersonalData Personal = PersonalData.None);

/// <summary>What happens to a personal-data field before anything is published.</summary>
public enum PersonalData
{
    /// <summary>Not personal data: published as it is.</summary>
    None,

    /// <summary>Removed: never stored in the open data store.</summary>
    Drop,

    /// <summary>All but the last three characters replaced by '*'.</summary>
    Mask,

    /// <summary>Replaced by a keyed hash (HMAC-SHA256, key <c>Privacy:HashKey</c>): equal values stay comparable.</summary>
    Hash,
}

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
