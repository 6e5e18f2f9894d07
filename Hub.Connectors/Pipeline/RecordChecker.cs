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
/// payload as the source sent it. A valid record is hashed and sent projected onto the schema's properties (what
/// the typed table stores): a field the schema does not declare is left to the raw payload kept for lineage.
/// </summary>
public sealed class RecordChecker(DatasetDefinition dataset, IRecordValidator validator, PersonalDataGuard guard)
{
    private readonly StoreLimits limits = new(dataset.Schema);

    public DatasetDefinition Dataset { get; } = dataset;

    /// <summary>
    /// The checker of a dataset: its JSON Schema validator (<see cref="FastRecordValidator"/>) and personal-data guard. Throws
    /// <see cref="InvalidOperationException"/> when the schema hashes personal data and no hash key is given.
    /// </summary>
    public static RecordChecker For(DatasetDefinition dataset, byte[]? hashKey)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return new RecordChecker(dataset, FastRecordValidator.For(dataset.Schema.Json, dataset.Schema.Path), new PersonalDataGuard(dataset.Schema, hashKey));
    }

    /// <summary>
    /// Checks <paramref name="records"/> in order, in batches of at most <paramref name="batchSize"/> (what one
    /// staged batch holds), with the blank and untrimmed values of the valid ones;
    /// <paramref name="onValid"/> sees the source of each valid record. Polled pages and pushes are checked so.
    /// </summary>
    public IEnumerable<CheckedBatch> CheckBatches(IEnumerable<MappedRecord> records, int batchSize, IReadOnlyDictionary<string, string>? published = null, Action<JsonElement>? onValid = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        foreach (var chunk in records.Chunk(batchSize))
        {
            var valid = new List<ValidRecord>(chunk.Length);
            var rejected = new List<RejectedRecord>();
            var cleanliness = default(Cleanliness);
            foreach (var record in chunk)
            {
                var (ok, bad) = Check(record, published);
                if (ok is not null)
                {
                    valid.Add(ok);
                    if (!ok.Deleted)
                    {
                        cleanliness += Cleanliness.Of(record.Source);
                    }

                    onValid?.Invoke(record.Source);
                }
                else
                {
                    rejected.Add(bad!);
                }
            }

            yield return new CheckedBatch(valid, rejected, cleanliness);
        }
    }

    /// <summary>
    /// The source record after the dataset's <c>mapping</c>, with its key and the conversion and key errors; a
    /// record is mapped once, whether its key is looked up before it is checked or not.
    /// </summary>
    public MappedRecord Map(JsonElement source)
    {
        var errors = new List<string>();
        var record = RecordMapper.Map(source, Dataset.Mapping, errors);
        if (RecordKey.TryBuild(record, Dataset.PrimaryKey, out var key, out var keyError))
        {
            return new MappedRecord(source, record, key, errors);
        }

        errors.Add(keyError!);
        return new MappedRecord(source, record, null, errors);
    }

    /// <summary>Maps (<see cref="Map"/>) and checks one source record; see <see cref="Check(MappedRecord, IReadOnlyDictionary{string, string}?)"/>.</summary>
    public (ValidRecord? Valid, RejectedRecord? Rejected) Check(JsonElement source, IReadOnlyDictionary<string, string>? published = null) =>
        Check(Map(source), published);

    /// <summary>
    /// Checks a mapped record's key and schema. When <paramref name="published"/> gives the content hash the key has
    /// in the published version (published under the same schema version) and the record's hash is the same, the
    /// record is unchanged: it is valid without being validated again, and its JSON is not sent
    /// (<see cref="ValidRecord.Json"/> is null). A record the dataset's <c>deleted_when</c> marks is the deletion of
    /// its key: it needs only the key, and is not checked against the schema.
    /// </summary>
    public (ValidRecord? Valid, RejectedRecord? Rejected) Check(MappedRecord mapped, IReadOnlyDictionary<string, string>? published = null)
    {
        ArgumentNullException.ThrowIfNull(mapped);
        if (Dataset.DeletedWhen is { } deletion && deletion.Marks(mapped.Source))
        {
            return mapped.Key is { } deleted
                ? (ValidRecord.Deletion(deleted), null)
                : (null, new RejectedRecord(null, mapped.Source.GetRawText(), [.. mapped.Errors, $"a deleted record ({deletion.Field} = {deletion.Value}) must still carry its primary key"]));
        }

        var record = mapped.Record;
        byte[]? canonical = null;
        if (mapped.Errors.Count == 0 && published is not null && published.TryGetValue(mapped.Key!, out var publishedHash))
        {
            canonical = Publishable(record);
            var hash = RecordHash.HashHex(canonical);
            if (hash == publishedHash)
            {
                return (new ValidRecord(mapped.Key!, hash, null), null);
            }
        }

        var schemaErrors = validator.Validate(record);
        if (schemaErrors.Count == 0)
        {
            schemaErrors = limits.Check(record);
        }

        if (mapped.Errors.Count > 0 || schemaErrors.Count > 0)
        {
            return (null, new RejectedRecord(mapped.Key, mapped.Source.GetRawText(), [.. mapped.Errors, .. schemaErrors]));
        }

        canonical ??= Publishable(record);
        return (new ValidRecord(mapped.Key!, RecordHash.HashHex(canonical), canonical), null);
    }

    /// <summary>The canonical JSON that is hashed and published: the schema's properties, personal data protected.</summary>
    private byte[] Publishable(JsonElement record) => guard.CanonicalJson(record);
}

/// <summary>A source record after mapping: the record to check, its key (null when it has none) and the errors so far.</summary>
public sealed record MappedRecord(JsonElement Source, JsonElement Record, string? Key, IReadOnlyList<string> Errors);

/// <summary>One batch of checked records: the valid ones, the rejected ones with their reasons, the valid ones' cleanliness.</summary>
public sealed record CheckedBatch(IReadOnlyList<ValidRecord> Valid, IReadOnlyList<RejectedRecord> Rejected, Cleanliness Cleanliness);
