using System.Text;
using System.Text.Json;
using Hub.Connectors.Validation;
using Hub.Core.Catalog;
using Hub.Core.Messages;
using Hub.Core.Records;

namespace Hub.Connectors.Pipeline;

/// <summary>
/// Decides for each fetched record: valid (keyed, hashed, in canonical JSON) or rejected with every reason.
/// Polled and pushed records go through the same checker. A rejected record keeps its payload as the source sent it.
/// </summary>
public sealed class RecordChecker(DatasetDefinition dataset, IRecordValidator validator)
{
    public DatasetDefinition Dataset { get; } = dataset;

    /// <summary>Maps the source record (the dataset's <c>mapping</c>), then checks its key and schema.</summary>
    public (ValidRecord? Valid, RejectedRecord? Rejected) Check(JsonElement source)
    {
        var errors = new List<string>();
        var record = RecordMapper.Map(source, Dataset.Mapping, errors);
        if (!RecordKey.TryBuild(record, Dataset.PrimaryKey, out var key, out var keyError))
        {
            errors.Add(keyError!);
        }

        errors.AddRange(validator.Validate(record));
        if (errors.Count > 0)
        {
            return (null, new RejectedRecord(keyError is null ? key : null, source.GetRawText(), errors));
        }

        var canonical = RecordHash.CanonicalJson(record);
        return (new ValidRecord(key, RecordHash.HashHex(canonical), Encoding.UTF8.GetString(canonical)), null);
    }
}
