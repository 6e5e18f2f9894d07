using System.Text.Json;

namespace Hub.Core.Catalog;

/// <summary>
/// How an agency marks a deleted record (<c>deleted_when:</c> in connectors.d): a source record whose top-level
/// <see cref="Field"/> equals <see cref="Value"/> is a deletion of its key (a tombstone), not a record to publish. It
/// needs only its primary key (and the incremental cursor, if any); it is not checked against the schema. This is how
/// an incremental ("changed since") source reports deletions, and a push can delete records the same way.
/// </summary>
public sealed record DeletionRule(string Field, string Value)
{
    /// <summary>The value a marking field has by default: JSON <c>true</c>.</summary>
    public const string DefaultValue = "true";

    /// <summary>
    /// Whether <paramref name="source"/> (a record as the agency sent it) is a deletion: its field is the JSON literal
    /// <c>true</c>/<c>false</c>, the string, or the number (as written) that <see cref="Value"/> names.
    /// </summary>
    public bool Marks(JsonElement source) =>
        source.ValueKind == JsonValueKind.Object && source.TryGetProperty(Field, out var value) && value.ValueKind switch
        {
            JsonValueKind.True => Value == "true",
            JsonValueKind.False => Value == "false",
            JsonValueKind.String => value.ValueEquals(Value),
            JsonValueKind.Number => value.GetRawText() == Value,
            _ => false,
        };
}
