using System.Text;
using System.Text.Json;
using Hub.Connectors.Privacy;
using Hub.Connectors.Validation;
using Hub.Core.Catalog;
using Hub.Core.Messages;
using Hub.Core.Records;

namespace Hub.Connectors.Pipeline;

/// <summary>
/// Decides for each fetched record: valid (mapped, personal data protected, keyed, hashed, in canonical JSON) or
/// rejected with every reason. Polled and pushed records go through the same checker. A rejected record keeps its
/// payload as the source sent it.
/// </summary>
public sealed class RecordChecker(DatasetDefinition dataset, IRecordValidator validator, PersonalDataGuard guard)
{
    public DatasetDefinition Dataset { get; } = dataset;

    /// <summary>
    /// The checker of a dataset: its JSON Schema validator and personal-data guard. Throws
    /// <see cref="InvalidOperationException"/> when the schema hashes personal data and no hash key is given.
    /// </summary>
    public static RecordChecker For(DatasetDefinition dataset, byte[]? hashKey)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return new RecordChecker(dataset, new NJsonSchemaValidator(dataset.Schema.Json, dataset.Schema.Path), new PersonalDataGuard(dataset.Schema, hashKey));
    }

    /// <summary>
    /// Checks <paramref name="records"/> in order, in batches of at most <paramref name="batchSize"/> (what one
    /// <see cref="RecordBatchFetched"/> carries), with the blank and untrimmed values of the valid ones;
    /// <paramref name="onValid"/> sees the source of each valid record. Polled pages and pushes are checked so.
    /// </summary>
    public IEnumerable<CheckedBatch> CheckBatches(IReadOnlyList<JsonElement> records, int batchSize, IReadOnlyDictionary<string, string>? published = null, Action<JsonElement>? onValid = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        for (var start = 0; start < records.Count; start += batchSize)
        {
            var end = Math.Min(start + batchSize, records.Count);
            var valid = new List<ValidRecord>(end - start);
            var rejected = new List<RejectedRecord>();
            var cleanliness = default(Cleanliness);
            for (var i = start; i < end; i++)
            {
                var (ok, bad) = Check(records[i], published);
                if (ok is not null)
                {
                    valid.Add(ok);
                    cleanliness += Cleanliness.Of(records[i]);
                    onValid?.Invoke(records[i]);
                }
                else
                {
                    rejected.Add(bad!);
                }
            }

            yield return new CheckedBatch(valid, rejected, cleanliness);
        }
    }

    /// <summary>The key of a source record (after mapping), or null when it has none.</summary>
    public string? KeyOf(JsonElement source)
    {
        var record = RecordMapper.Map(source, Dataset.Mapping, []);
        return RecordKey.TryBuild(record, Dataset.PrimaryKey, out var key, out _) ? key : null;
    }

    /// <summary>
    /// Maps the source record (the dataset's <c>mapping</c>), then checks its key and schema. When
    /// <paramref name="published"/> gives the content hash the key has in the published version (published under
    /// the same schema version) and the record's hash is the same, the record is unchanged: it is valid without
    /// being validated again, and its JSON is not sent (<see cref="ValidRecord.Json"/> is null).
    /// </summary>
    public (ValidRecord? Valid, RejectedRecord? Rejected) Check(JsonElement source, IReadOnlyDictionary<string, string>? published = null)
    {
        var errors = new List<string>();
        var record = RecordMapper.Map(source, Dataset.Mapping, errors);
        if (!RecordKey.TryBuild(record, Dataset.PrimaryKey, out var key, out var keyError))
        {
            errors.Add(keyError!);
        }

        byte[]? canonical = null;
        if (errors.Count == 0 && published is not null && published.TryGetValue(key, out var publishedHash))
        {
            canonical = RecordHash.CanonicalJson(guard.Protect(record));
            var hash = RecordHash.HashHex(canonical);
            if (hash == publishedHash)
            {
                return (new ValidRecord(key, hash, null), null);
            }
        }

        errors.AddRange(validator.Validate(record));
        if (errors.Count > 0)
        {
            return (null, new RejectedRecord(keyError is null ? key : null, source.GetRawText(), errors));
        }

        canonical ??= RecordHash.CanonicalJson(guard.Protect(record));
        return (new ValidRecord(key, RecordHash.HashHex(canonical), Encoding.UTF8.GetString(canonical)), null);
    }
}

/// <summary>One batch of checked records: the valid ones, the rejected ones with their reasons, the valid ones' cleanliness.</summary>
public sealed record CheckedBatch(IReadOnlyList<ValidRecord> Valid, IReadOnlyList<RejectedRecord> Rejected, Cleanliness Cleanliness);
