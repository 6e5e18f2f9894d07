using System.Text.Json;

namespace Hub.Connectors.Validation;

/// <summary>
/// A dataset's validator: the schema compiled to checks on the <see cref="JsonElement"/> (<see cref="CompiledSchema"/>)
/// passes the records that are certainly valid; every other record is validated by NJsonSchema, which gives the verdict
/// and the reasons. Verdicts and reasons are NJsonSchema's, at a fraction of its cost for the valid records.
/// </summary>
public sealed class FastRecordValidator : IRecordValidator
{
    private readonly CompiledSchema compiled;
    private readonly NJsonSchemaValidator reference;

    private FastRecordValidator(CompiledSchema compiled, NJsonSchemaValidator reference)
    {
        this.compiled = compiled;
        this.reference = reference;
    }

    /// <summary>
    /// The validator of <paramref name="schemaJson"/>: compiled when it uses only the keywords <see cref="CompiledSchema"/>
    /// reproduces, NJsonSchema alone otherwise (decided here, once).
    /// </summary>
    public static IRecordValidator For(string schemaJson, string? documentPath = null)
    {
        var reference = new NJsonSchemaValidator(schemaJson, documentPath);
        return CompiledSchema.TryCompile(schemaJson, reference.Schema) is { } compiled ? new FastRecordValidator(compiled, reference) : reference;
    }

    public IReadOnlyList<string> Validate(JsonElement record) => compiled.IsCertainlyValid(record) ? [] : reference.Validate(record);
}
