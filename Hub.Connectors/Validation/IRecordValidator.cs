using System.Text.Json;

namespace Hub.Connectors.Validation;

/// <summary>Checks one record against its dataset's JSON Schema.</summary>
public interface IRecordValidator
{
    /// <summary>Every violation as "path: problem"; empty when the record is valid.</summary>
    IReadOnlyList<string> Validate(JsonElement record);
}
