using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
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
/// What a reload changed: datasets added or changed (to schedule again), datasets gone, and datasets whose file now
/// classifies them secret (to withdraw; they are gone from the catalogue too).
/// </summary>
public sealed record CatalogChange(IReadOnlyList<CatalogEntry> Changed, IReadOnlyList<string> Removed, IReadOnlyList<string> Withdrawn);

/// <summary>
/// The catalogue loaded from <c>connectors.d/</c>. Problems in a file are logged with file, line and fix; that
/// file's datasets are left out and every other file's datasets run. <see cref="ReloadIfChanged"/> reads the folder
/// again when a file changed: a broken edit keeps the last good version of that file's datasets (and reports
/// the error), a good edit replaces them, a removed file removes them. A dataset the file now classifies secret is
/// never kept: secret data may not be published (regulation Art. 1.2), so it leaves the catalogue at once.
/// </summary>
public sealed partial class HubCatalog
{
    private readonly string path;
    private readonly byte[]? hashKey;
    private readonly ILogger<HubCatalog> logger;
    private readonly Lock gate = new();
    private Snapshot current;

    public HubCatalog(IOptions<ConnectorOptions> options, IOptions<PrivacyOptions> privacy, ILogger<HubCatalog> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(privacy);
        this.logger = logger;
        path = Path.GetFullPath(options.Value.Path);
        hashKey = privacy.Value.HashKeyBytes();
        current = Load(null, Fingerprint(path));
    }

    public IReadOnlyList<ConfigError> Errors => Volatile.Read(ref current).Errors;

    public IEnumerable<CatalogEntry> Entries => Volatile.Read(ref current).Entries.Values;

    /// <summary>The datasets that <c>connectors.d/</c> classifies secret now, with the error that refuses each.</summary>
    public IEnumerable<ConfigError> Secret => Volatile.Read(ref current).Errors.Where(e => e.SecretDatasetId is not null);

    public CatalogEntry? Find(string datasetId) => Volatile.Read(ref current).Entries.GetValueOrDefault(datasetId);

    /// <summary>
    /// The errors of the file that declares <paramref name="datasetId"/> when that file is broken now (the dataset
    /// runs its last good version), or null.
    /// </summary>
    public string? ConfigErrorFor(string datasetId)
    {
        var snapshot = Volatile.Read(ref current);
        if (!snapshot.Entries.TryGetValue(datasetId, out var entry))
        {
            return null;
        }

        var errors = snapshot.Errors.Where(e => string.Equals(e.File, entry.Dataset.SourceFile, StringComparison.Ordinal)).Select(e => e.ToString()).ToList();
        return errors.Count == 0 ? null : string.Join("\n", errors);
    }

    /// <summary>Reads the folder again when a file in it changed; returns what changed, or null when nothing did.</summary>
    public CatalogChange? ReloadIfChanged()
    {
        lock (gate)
        {
            var fingerprint = Fingerprint(path);
            var previous = current;
            if (fingerprint == previous.Fingerprint)
            {
                return null;
            }

            var next = Load(previous, fingerprint);
            Volatile.Write(ref current, next);
            var changed = next.Entries.Values
                .Where(e => !previous.Entries.TryGetValue(e.Dataset.Id, out var old) || Revision(old) != Revision(e))
                .OrderBy(e => e.Dataset.Id, StringComparer.Ordinal)
                .ToList();
            var removed = previous.Entries.Keys.Where(id => !next.Entries.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
            var wasSecret = previous.Errors.Select(e => e.SecretDatasetId).OfType<string>().ToHashSet(StringComparer.Ordinal);
            var withdrawn = next.Errors.Select(e => e.SecretDatasetId).OfType<string>().Where(id => !wasSecret.Contains(id)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            LogReloaded(logger, changed.Count, removed.Count, next.Errors.Count);
            return new CatalogChange(changed, removed, withdrawn);
        }
    }

    private Snapshot Load(Snapshot? previous, string fingerprint)
    {
        var result = CatalogLoader.LoadDirectory(path);
        var errors = result.Errors.ToList();
        var loaded = new Dictionary<string, CatalogEntry>(StringComparer.Ordinal);
        foreach (var agency in result.Agencies)
        {
            foreach (var dataset in agency.Datasets)
            {
                try
                {
                    loaded[dataset.Id] = new CatalogEntry(agency, dataset, RecordChecker.For(dataset, hashKey));
                }
                catch (InvalidOperationException e)
                {
                    errors.Add(new ConfigError(dataset.SourceFile, dataset.SourceLine, 1, $"dataset '{dataset.Id}': {e.Message}", $"fix the schema {dataset.Schema.Path} or the mapping of this dataset"));
                }
            }
        }

        if (previous is not null)
        {
            // A broken edit keeps the last good version of the file's datasets running, unless it classifies one secret.
            var broken = errors.Select(e => e.File).ToHashSet(StringComparer.Ordinal);
            var secret = errors.Select(e => e.SecretDatasetId).OfType<string>().ToHashSet(StringComparer.Ordinal);
            foreach (var kept in previous.Entries.Values.Where(e => broken.Contains(e.Dataset.SourceFile) && File.Exists(e.Dataset.SourceFile) && !loaded.ContainsKey(e.Dataset.Id) && !secret.Contains(e.Dataset.Id)))
            {
                loaded[kept.Dataset.Id] = kept;
            }
        }

        foreach (var error in errors)
        {
            LogConfigError(logger, error.ToString());
        }

        var agencies = loaded.Values.Select(e => e.Agency.Code).Distinct(StringComparer.Ordinal).Count();
        LogLoaded(logger, loaded.Count, agencies, path, errors.Count);
        return new Snapshot(loaded.ToFrozenDictionary(StringComparer.Ordinal), errors, fingerprint);
    }

    /// <summary>What makes a dataset's definition: its file's text (revision) and its schema's text.</summary>
    private static (string, string, int) Revision(CatalogEntry entry) => (entry.Dataset.ConfigRevision, entry.Dataset.Schema.Json, entry.Dataset.Schema.Version);

    /// <summary>SHA-256 over the names and contents of every file under the folder (agency files and schemas).</summary>
    private static string Fingerprint(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return string.Empty;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            try
            {
                var content = File.ReadAllBytes(file);
                hash.AppendData(Encoding.UTF8.GetBytes(file + "\n" + content.Length + "\n"));
                hash.AppendData(content);
            }
            catch (IOException)
            {
                // A file being written or removed right now: the next check sees it settled.
                hash.AppendData(Encoding.UTF8.GetBytes(file + "\n?\n"));
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Connector configuration error, this file is skipped (its last good version, if any, keeps running): {Error}")]
    private static partial void LogConfigError(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {DatasetCount} datasets of {AgencyCount} agencies from {Path} ({ErrorCount} errors)")]
    private static partial void LogLoaded(ILogger logger, int datasetCount, int agencyCount, string path, int errorCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "connectors.d changed: {Changed} datasets added or changed, {Removed} removed, {ErrorCount} errors")]
    private static partial void LogReloaded(ILogger logger, int changed, int removed, int errorCount);

    private sealed record Snapshot(FrozenDictionary<string, CatalogEntry> Entries, IReadOnlyList<ConfigError> Errors, string Fingerprint);
}
