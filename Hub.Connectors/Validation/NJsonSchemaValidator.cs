using System.Text.Json;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Hub.Connectors.Validation;

/// <summary>JSON Schema validation by NJsonSchema.</summary>
public sealed class NJsonSchemaValidator : IRecordValidator
{
    private readonly JsonSchema schema;

    public NJsonSchemaValidator(string schemaJson, string? documentPath = null)
    {
        schema = JsonSchema.FromJsonAsync(schemaJson, documentPath).GetAwaiter().GetResult();
    }

    /// <summary>The schema as NJsonSchema read it.</summary>
    internal JsonSchema Schema => schema;

    public IReadOnlyList<string> Validate(JsonElement record)
    {
        ICollection<ValidationError> errors;
        try
        {
            errors = schema.Validate(record.GetRawText());
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException or FormatException or Newtonsoft.Json.JsonReaderException)
        {
            // NJsonSchema fails on some values (an integer beyond 64 bits, a number beyond decimal's range, an integer too
            // long for Newtonsoft's reader to parse at all): the record is rejected, not the run.
            return [$"#: the record could not be validated ({e.Message}); the usual cause is an integer of more than 64 bits (beyond ±9,223,372,036,854,775,807) or a number beyond about ±7.9e28"];
        }

        if (errors.Count == 0)
        {
            return [];
        }

        var messages = new List<string>(errors.Count);
        Describe(errors, messages);
        return messages;
    }

    private static void Describe(IEnumerable<ValidationError> errors, List<string> messages)
    {
        foreach (var error in errors)
        {
            var path = string.IsNullOrEmpty(error.Path) ? "#" : error.Path;
            messages.Add($"{path}: {error.Kind}");
            if (error is ChildSchemaValidationError child)
            {
                foreach (var nested in child.Errors.Values)
                {
                    Describe(nested, messages);
                }
            }
        }
    }
}
