using System.Text;
using System.Text.Json;
using Hub.Connectors.Privacy;
using Hub.Connectors.Validation;
using Hub.Core.Catalog;
using Hub.Core.Messages;
using Hub.Core.Records;

namespace Hub.Connectors.Pipeline;

/// <summary>
/// Decides for each fetched record: valid (personal data protected, keyed, hashed, in canonical JSON) or rejected
/// with every reason.
/// Polled and pushed records go through the same checker.
/// </summary>
public sealed class RecordChecker(DatasetDefinition dataset, IRecordValidator validator, PersonalDataGuard guard)
{
    public DatasetDefinition Dataset { get; } = dataset;

    public (ValidRecord? Valid, RejectedRecord? Rejected) Check(JsonElement record)
    {
        var errors = new List<string>();
        if (!RecordKey.TryBuild(record, Dataset.PrimaryKey, out var key, out var keyError))
        {
            errors.Add(keyError!);
        }

        errors.AddRange(validator.Validate(record));
        if (errors.Count > 0)
        {
            return (null, new RejectedRecord(keyError is null ? key : null, record.GetRawText(), errors));
        }

        var canonical = RecordHash.CanonicalJson(guard.Protect(record));
        return (new ValidRecord(key, RecordHash.HashHex(canonical), Encoding.UTF8.GetString(canonical)), null);
    }
}
