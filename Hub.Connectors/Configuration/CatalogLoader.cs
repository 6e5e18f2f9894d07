using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Hub.Core.Catalog;
using Quartz;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Hub.Connectors.Configuration;

/// <summary>What loading <c>connectors.d/</c> gave: the agencies of every good file, and every problem found.</summary>
public sealed record CatalogLoadResult(IReadOnlyList<AgencyDefinition> Agencies, IReadOnlyList<ConfigError> Errors)
{
    public IEnumerable<DatasetDefinition> Datasets => Agencies.SelectMany(a => a.Datasets);
}

/// <summary>
/// Loads format v1 of <c>connectors.d/*.yaml</c>: one file per agency. A broken file is reported with its
/// file, line and fix and is left out; the other files still load.
/// </summary>
public static partial class CatalogLoader
{
    public const int FormatVersion = 1;

    [GeneratedRegex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
    private static partial Regex DatasetIdPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]*$")]
    private static partial Regex AgencyCodePattern();

    public static CatalogLoadResult LoadDirectory(string directory, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var agencies = new List<AgencyDefinition>();
        var errors = new List<ConfigError>();
        if (!Directory.Exists(directory))
        {
            errors.Add(new ConfigError(directory, 1, 1, "the connectors folder does not exist", "create it or set Connectors:Path (environment Connectors__Path) to the folder that holds the agency files"));
            return new CatalogLoadResult(agencies, errors);
        }

        var files = Directory.EnumerateFiles(directory, "*.yaml").Concat(Directory.EnumerateFiles(directory, "*.yml")).Order(StringComparer.Ordinal);
        var seenIds = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var fileErrors = new List<ConfigError>();
            var agency = LoadFile(file, File.ReadAllText(file), environment, fileErrors);
            if (agency is not null)
            {
                foreach (var dataset in agency.Datasets)
                {
                    if (!seenIds.TryAdd(dataset.Id, file))
                    {
                        fileErrors.Add(new ConfigError(file, dataset.SourceLine, 1, $"dataset id '{dataset.Id}' is already declared in {seenIds[dataset.Id]}", "dataset ids are unique across connectors.d; rename one"));
                    }
                }
            }

            errors.AddRange(fileErrors);
            if (agency is not null && fileErrors.Count == 0)
            {
                agencies.Add(agency);
            }
        }

        return new CatalogLoadResult(agencies, errors);
    }

    /// <summary>Parses one agency file; returns null and adds to <paramref name="errors"/> when it is broken.</summary>
    public static AgencyDefinition? LoadFile(string file, string text, Func<string, string?> environment, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        var reader = new YamlNodeReader(file, errors);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            errors.Add(new ConfigError(file, (int)e.Start.Line, (int)e.Start.Column, $"not valid YAML: {e.InnerException?.Message ?? e.Message}", "check the indentation and quoting around this line"));
            return null;
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            reader.Error(stream.Documents.FirstOrDefault()?.RootNode, "the file must be a mapping with 'version', 'agency' and 'datasets'", "start from an example in connectors.d/ or docs/connectors.md");
            return null;
        }

        reader.RejectUnknownKeys(root, "the file", "version", "agency", "datasets");
        var version = reader.Integer(root, "version", 1, 1000);
        if (version is null && YamlNodeReader.Get(root, "version") is null)
        {
            reader.Error(root, "the file has no 'version'", $"add 'version: {FormatVersion}' at the top");
        }
        else if (version is not null && version != FormatVersion)
        {
            reader.Error(YamlNodeReader.Get(root, "version"), $"format version {version} is not supported", $"this hub reads 'version: {FormatVersion}'");
        }

        var agencyNode = reader.Mapping(root, "agency", required: true, "the file");
        string? code = null, name = null;
        var rateLimit = RateLimitDefinition.Unlimited;
        if (agencyNode is not null)
        {
            reader.RejectUnknownKeys(agencyNode, "'agency'", "code", "name", "rate_limit");
            code = reader.String(agencyNode, "code", required: true, "'agency'", "STNMT");
            name = reader.String(agencyNode, "name", required: true, "'agency'", "Sở Tài nguyên và Môi trường");
            if (code is not null && !AgencyCodePattern().IsMatch(code))
            {
                reader.Error(YamlNodeReader.Get(agencyNode, "code"), $"agency code '{code}' has characters other than letters, digits, '-' and '_'", "use a short code such as 'STNMT'");
            }

            rateLimit = ReadRateLimit(reader, agencyNode);
        }

        var revision = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var datasets = new List<DatasetDefinition>();
        switch (YamlNodeReader.Get(root, "datasets"))
        {
            case null:
                reader.Error(root, "the file has no 'datasets'", "add 'datasets:' with at least one dataset");
                break;
            case YamlSequenceNode { Children.Count: > 0 } sequence:
                foreach (var item in sequence.Children)
                {
                    if (item is not YamlMappingNode datasetNode)
                    {
                        reader.Error(item, "each entry of 'datasets' must be a mapping", "start each dataset with '- id: <dataset-id>'");
                        continue;
                    }

                    var dataset = ReadDataset(reader, datasetNode, new AgencyEndpoint(code ?? "?", rateLimit), revision, environment);
                    if (dataset is not null)
                    {
                        if (datasets.Any(d => d.Id == dataset.Id))
                        {
                            reader.Error(YamlNodeReader.Get(datasetNode, "id"), $"dataset id '{dataset.Id}' appears twice in this file", "give each dataset its own id");
                        }

                        datasets.Add(dataset);
                    }
                }

                break;
            case var other:
                reader.Error(other, "'datasets' must be a non-empty list", "write each dataset as an item: '- id: <dataset-id>'");
                break;
        }

        return errors.Count > before || code is null || name is null
            ? null
            : new AgencyDefinition(code, name, file, revision, datasets);
    }

    private static DatasetDefinition? ReadDataset(YamlNodeReader reader, YamlMappingNode node, AgencyEndpoint agency, string revision, Func<string, string?> environment)
    {
        const string where = "a dataset";
        reader.RejectUnknownKeys(node, where, "id", "title", "description", "licence", "classification", "update_cycle", "schedule", "schema", "schema_version", "primary_key", "source", "mapping", "incremental", "deleted_when");
        var id = reader.String(node, "id", required: true, where, "dvhc-xa-ninh-thuan");
        if (id is not null && (!DatasetIdPattern().IsMatch(id) || id.Length > 48))
        {
            reader.Error(YamlNodeReader.Get(node, "id"), $"dataset id '{id}' must be lowercase letters and digits separated by single '-', at most 48 characters", "for example 'dvhc-xa-ninh-thuan'");
            id = null;
        }

        var title = reader.String(node, "title", required: true, where, "Danh mục đơn vị hành chính cấp xã");
        var licence = reader.String(node, "licence", required: true, where, "CC-BY-4.0");
        var classification = reader.Enum<Classification>(node, "classification", required: false, where) ?? Classification.Public;
        if (classification == Classification.Secret)
        {
            reader.Error(YamlNodeReader.Get(node, "classification"), "a dataset classified secret cannot be published through the open data hub (regulation Art. 1.2)", "remove this dataset from connectors.d", secretDatasetId: id);
        }

        var cycle = reader.Enum<UpdateCycle>(node, "update_cycle", required: true, where);
        var schedule = reader.String(node, "schedule", required: true, where, "\"0 0 2 * * ?\"");
        if (schedule is not null && !IsValidCron(schedule))
        {
            reader.Error(YamlNodeReader.Get(node, "schedule"), $"'{schedule}' is not a valid Quartz cron expression", "use six or seven fields: seconds minutes hours day-of-month month day-of-week [year], e.g. \"0 0 2 * * ?\" for 02:00 every day");
            schedule = null;
        }

        var primaryKey = reader.StringList(node, "primary_key", required: true, where, "[ma_xa]");
        var schemaVersion = reader.Integer(node, "schema_version", 1, 100_000) ?? 1;
        var schema = ReadSchema(reader, node, schemaVersion);
        if (schema is not null && primaryKey is not null)
        {
            foreach (var field in primaryKey.Where(f => schema.Columns.All(c => c.Name != f)))
            {
                reader.Error(YamlNodeReader.Get(node, "primary_key"), $"primary key field '{field}' is not a property of the schema {schema.Path}", $"use properties of the schema: {string.Join(", ", schema.Columns.Select(c => c.Name))}");
            }

            foreach (var column in schema.Columns.Where(c => c.Personal != PersonalData.None && primaryKey.Contains(c.Name)))
            {
                reader.Error(YamlNodeReader.Get(node, "primary_key"), $"primary key field '{column.Name}' is marked as personal data in {schema.Path}", "key the dataset on a field that is not personal data");
            }
        }

        var mapping = ReadMapping(reader, node, schema);

        var sourceNode = reader.Mapping(node, "source", required: true, where);
        var source = sourceNode is null ? null : ReadSource(reader, sourceNode, agency, environment);
        var incremental = ReadIncremental(reader, node, source);
        var deletedWhen = ReadDeletedWhen(reader, node);
        if (id is null || title is null || licence is null || cycle is null || schedule is null || schema is null || primaryKey is null || source is null)
        {
            return null;
        }

        return new DatasetDefinition
        {
            Id = id,
            AgencyCode = agency.Code,
            Title = title,
            Description = reader.String(node, "description", required: false, where),
            Licence = licence,
            Classification = classification,
            UpdateCycle = cycle.Value,
            Schedule = schedule,
            Schema = schema,
            PrimaryKey = primaryKey,
            Source = source,
            Mapping = mapping,
            Incremental = incremental,
            DeletedWhen = deletedWhen,
            SourceFile = reader.File,
            SourceLine = (int)(YamlNodeReader.Get(node, "id")?.Start.Line ?? node.Start.Line),
            ConfigRevision = revision,
        };
    }

    private static IncrementalDefinition? ReadIncremental(YamlNodeReader reader, YamlMappingNode node, SourceDefinition? source)
    {
        const string where = "'incremental'";
        var incremental = reader.Mapping(node, "incremental", required: false, "a dataset");
        if (incremental is null)
        {
            return null;
        }

        reader.RejectUnknownKeys(incremental, where, "cursor_field", "param", "template", "lookback");
        var field = reader.String(incremental, "cursor_field", required: true, where, "ngay_cap_nhat");
        var param = reader.String(incremental, "param", required: true, where, "updated_since");
        var template = reader.String(incremental, "template", required: false, where);
        var lookback = YamlNodeReader.Get(incremental, "lookback") is null ? TimeSpan.Zero : reader.Duration(incremental, "lookback");
        if (template is not null && !template.Contains(IncrementalDefinition.Placeholder, StringComparison.Ordinal))
        {
            reader.Error(YamlNodeReader.Get(incremental, "template"), $"'template' has no {IncrementalDefinition.Placeholder} where the cursor goes",
                "write e.g. template: \"NgayCapNhat ge {cursor}\"");
            return null;
        }

        if (source is SoapSourceDefinition)
        {
            reader.Error(incremental, "'incremental' sends the cursor as a query parameter, which a SOAP source does not take",
                "use incremental with rest, odata or csv sources, or give the SOAP operation a date parameter");
            return null;
        }

        return field is null || param is null || lookback is null ? null : new IncrementalDefinition(field, param, template, lookback.Value);
    }

    private static DeletionRule? ReadDeletedWhen(YamlNodeReader reader, YamlMappingNode node)
    {
        const string where = "'deleted_when'";
        var deletedWhen = reader.Mapping(node, "deleted_when", required: false, "a dataset");
        if (deletedWhen is null)
        {
            return null;
        }

        reader.RejectUnknownKeys(deletedWhen, where, "field", "equals");
        var field = reader.String(deletedWhen, "field", required: true, where, "da_xoa");
        var value = reader.String(deletedWhen, "equals", required: false, where) ?? DeletionRule.DefaultValue;
        // YAML's True and FALSE are the JSON literals too, not strings of that spelling.
        value = value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("false", StringComparison.OrdinalIgnoreCase) ? value.ToLowerInvariant() : value;
        return field is null ? null : new DeletionRule(field, value);
    }

    private static bool IsValidCron(string expression)
    {
        try
        {
            _ = new CronExpression(expression);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static DatasetSchema? ReadSchema(YamlNodeReader reader, YamlMappingNode node, int version)
    {
        var relative = reader.String(node, "schema", required: true, "a dataset", "schemas/dvhc-xa.v1.json");
        if (relative is null)
        {
            return null;
        }

        var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(reader.File)) ?? ".", relative));
        if (!File.Exists(path))
        {
            reader.Error(YamlNodeReader.Get(node, "schema"), $"schema file '{relative}' does not exist (looked for {path})", "the path is relative to this file; put the JSON Schema next to it");
            return null;
        }

        var (schema, error) = SchemaColumns.Parse(path, File.ReadAllText(path), version);
        if (error is not null)
        {
            reader.Error(YamlNodeReader.Get(node, "schema"), $"schema file '{relative}': {error}", "fix the JSON Schema file");
        }

        return schema;
    }
}
