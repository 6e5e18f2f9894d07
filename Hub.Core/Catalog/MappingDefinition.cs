namespace Hub.Core.Catalog;

/// <summary>
/// How a source record becomes a dataset record (<c>mapping</c> in a dataset): renamed and converted fields,
/// constants, and whether the fields not named are kept as they are.
/// </summary>
public sealed record MappingDefinition(IReadOnlyList<FieldMapping> Fields, bool KeepUnmapped)
{
    public static MappingDefinition Identity { get; } = new([], KeepUnmapped: true);
}

/// <summary>
/// One field of the dataset record: taken from source field <paramref name="From"/> (or the constant
/// <paramref name="Constant"/>) and converted to <paramref name="Type"/>; <paramref name="Formats"/> are
/// date pattern (<c>dd/MM/yyyy</c>) or a number style (<c>vi</c>: <c>1.234.567,89</c>).
/// </summary>
public sealed record FieldMapping(string Target, string? From, string? Constant, FieldType Type, IReadOnlyList<string> Formats);

/// <summary>The type a mapped field is converted to; in files: keep, string, integer, number, boolean, date, date_time.</summary>
public enum FieldType
{
    /// <summary>The value as it is in the source.</summary>
    Keep,

    /// <summary><c>string</c>.</summary>
    Text,

    /// <summary><c>integer</c>.</summary>
    WholeNumber,

    /// <summary><c>number</c>.</summary>
    Number,

    /// <summary><c>boolean</c>.</summary>
    TrueFalse,

    /// <summary><c>date</c>: written <c>yyyy-MM-dd</c>.</summary>
    Date,

    /// <summary><c>date_time</c>: written ISO 8601 with offset (Vietnam time when the source gives none).</summary>
    DateTime,
}
