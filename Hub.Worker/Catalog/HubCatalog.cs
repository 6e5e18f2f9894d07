using System.Collections.Frozen;
using Hub.Connectors;
using Hub.Connectors.Configuration;
using Hub.Connectors.Pipeline;
using Hub.Core.Catalog;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Catalog;

/// <summary>A dataset of the catalogue with its agency and its record checker.</summary>
public sealed record CatalogEntry(AgencyDefinition Agency, DatasetDefinition Dataset, RecordChecker Checker);

/// <summary>
/// The catalogue loaded from <c>connectors.d/</c> at start. Problems in a file are logged with file, line and
/// fix; that file's datasets are left out and every other file's datasets run.
/// </summary>
public sealed partial class HubCatalog
{
    private readonly FrozenDictionary<string, CatalogEntry> entries;

    public HubCatalog(IOptions<ConnectorOptions> options, IOptions<PrivacyOptions> privacy, ILogger<HubCatalog> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(privacy);
        var path = Path.GetFullPath(options.Value.Path);
        var result = CatalogLoader.LoadDirectory(path);
        var errors = result.Errors.ToList();
        var hashKey = privacy.Value.HashKeyBytes();
        var loaded = new List<CatalogEntry>();
        foreach (var agency in result.Agencies)
        {
            foreach (var dataset in agency.Datasets)
            {
                try
                {
                    loaded.Add(new CatalogEntry(agency, dataset, RecordChecker.For(dataset, hashKey)));
                }
                catch (InvalidOperationException e)
                {
                    errors.Add(new ConfigError(dataset.SourceFile, 1, 1, $"dataset '{dataset.Id}': {e.Message}"));
                }
            }
        }

        Errors = errors;
        foreach (var error in errors)
        {
            LogConfigError(logger, error.ToString());
        }

        entries = loaded.ToFrozenDictionary(e => e.Dataset.Id, StringComparer.Ordinal);
        LogLoaded(logger, entries.Count, result.Agencies.Count, path, errors.Count);
    }

    public IReadOnlyList<ConfigError> Errors { get; }

    public IEnumerable<CatalogEntry> Entries => entries.Values;

    public CatalogEntry? Find(string datasetId) => entries.GetValueOrDefault(datasetId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connector configuration error, this file is skipped: {Error}")]
    private static partial void LogConfigError(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {DatasetCount} datasets of {AgencyCount} agencies from {Path} ({ErrorCount} errors)")]
    private static partial void LogLoaded(ILogger logger, int datasetCount, int agencyCount, string path, int errorCount);
}
