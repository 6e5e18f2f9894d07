namespace Hub.Core.Catalog;

/// <summary>An agency as registered by one file in <c>connectors.d/</c>.</summary>
public sealed record AgencyDefinition(
    string Code,
    string Name,
    string SourceFile,
    string ConfigRevision,
    IReadOnlyList<DatasetDefinition> Datasets);

/// <summary>One open dataset: its catalogue metadata, obligations, schema and source.</summary>
public sealed record DatasetDefinition
{
    public required string Id { get; init; }
    public required string AgencyCode { get; init; }
    public required string Title { get; init; }
    public string? Description { get; init; }
    public required string Licence { get; init; }
    public Classification Classification { get; init; } = Classification.Public;
    public required UpdateCycle UpdateCycle { get; init; }

    /// <summary>Quartz cron expression, evaluated in Asia/Ho_Chi_Minh.</summary>
    public required string Schedule { get; init; }

    public required DatasetSchema Schema { get; init; }
    public required IReadOnlyList<string> PrimaryKey { get; init; }
    public required SourceDefinition Source { get; init; }

    /// <summary>Renames, constants and conversions applied to each source record before it is checked.</summary>
    public MappingDefinition Mapping { get; init; } = MappingDefinition.Identity;

    /// <summary>Incremental sync by a cursor field (null: every run is a full refresh).</summary>
    public IncrementalDefinition? Incremental { get; init; }

    /// <summary>How the agency marks a deleted record (null: it does not; only a full refresh deletes).</summary>
    public DeletionRule? DeletedWhen { get; init; }

    /// <summary>The file that declared the dataset.</summary>
    public required string SourceFile { get; init; }

    /// <summary>The line of the dataset's <c>id</c> in <see cref="SourceFile"/>, where errors about the whole dataset point.</summary>
    public int SourceLine { get; init; } = 1;

    /// <summary>SHA-256 of the declaring file's text: the connector configuration revision for lineage.</summary>
    public required string ConfigRevision { get; init; }
}
