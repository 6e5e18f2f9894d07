using System.Text.Json;
using Hub.Connectors.Validation;
using NJsonSchema;
using Xunit.Abstractions;

namespace Hub.Connectors.Tests.Validation;

/// <summary>
/// The compiled schema passes exactly the records NJsonSchema finds valid, so the validator the checker uses gives every
/// record NJsonSchema's verdict and reasons: proved on the corpus of every schema of the repository.
/// </summary>
public class FastRecordValidatorTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_record_of_the_corpus_gets_NJsonSchemas_verdict_and_reasons()
    {
        var records = 0;
        var invalid = 0;
        var differences = new List<string>();
        foreach (var (name, schemaJson, mustCompile) in SchemaCorpus.Schemas())
        {
            var reference = new NJsonSchemaValidator(schemaJson);
            var compiled = Compile(schemaJson);
            if (compiled is null)
            {
                Assert.False(mustCompile, $"{name} does not compile: the keywords of connectors.d's and the bench's schemas should");
                output.WriteLine($"{name} does not compile: validated by NJsonSchema alone");
                continue;
            }

            var validator = FastRecordValidator.For(schemaJson);
            foreach (var text in SchemaCorpus.Records(schemaJson).Distinct(StringComparer.Ordinal))
            {
                using var document = JsonDocument.Parse(text);
                var expected = reference.Validate(document.RootElement);
                var certainlyValid = compiled.IsCertainlyValid(document.RootElement);
                records++;
                invalid += expected.Count > 0 ? 1 : 0;
                if (certainlyValid ? expected.Count > 0 : expected.Count == 0 && !SchemaCorpus.IsLeftToNJsonSchema(document.RootElement))
                {
                    differences.Add($"{name}: {text}\n  compiled: {(certainlyValid ? "valid" : "not certainly valid")}; NJsonSchema: [{string.Join("; ", expected)}]");
                }

                Assert.Equal(expected, validator.Validate(document.RootElement));
            }
        }

        output.WriteLine($"{records} records ({invalid} invalid) through NJsonSchema and the compiled schemas; {differences.Count} verdicts differ");
        Assert.True(records > 5000, $"only {records} records");
        Assert.True(invalid > records / 3 && invalid < records * 9 / 10, $"{invalid} of {records} invalid: the corpus should mix valid and invalid records");
        Assert.True(differences.Count == 0, string.Join("\n", differences.Take(30)));
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"$ref":"#/definitions/x"}},"definitions":{"x":{"type":"string"}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","const":"x"}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"anyOf":[{"type":"string"},{"type":"integer"}]}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"integer"}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"array","items":[{"type":"string"}]}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"array","uniqueItems":true}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","x-nullable":true}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer","enum":[1,2]}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","enum":["2024-05-01T08:30:00"]}}}""")]
    [InlineData("""{"type":"object","required":["b"],"properties":{"a":{"type":"string"}}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}},"minProperties":1}""")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","x-unknown":1}}}""")]
    public void A_schema_with_a_keyword_outside_the_compiled_subset_is_validated_by_NJsonSchema_alone(string schemaJson)
    {
        Assert.Null(Compile(schemaJson));
        Assert.IsType<NJsonSchemaValidator>(FastRecordValidator.For(schemaJson));
    }

    [Fact]
    public void The_bench_schema_compiles_and_its_records_are_decided_without_NJsonSchema()
    {
        var schemaJson = SchemaCorpus.BenchSchema(Demo.DemoAgencyProcess.RepositoryRoot());
        Assert.IsType<FastRecordValidator>(FastRecordValidator.For(schemaJson));
        var compiled = Compile(schemaJson)!;
        using var document = JsonDocument.Parse(
            """{"id":7,"ma_ho_so":"HS-2024-0000007","ho_ten":"Nguyễn Thị Ánh","ngay_sinh":"1990-02-28","dia_chi":"Thôn 1","ma_xa":"22738","so_tien":1500000.5,"trang_thai":"moi","ngay_cap_nhat":"2024-05-01T08:30:00+07:00","ghi_chu":null}""");

        Assert.True(compiled.IsCertainlyValid(document.RootElement));
    }

    [Fact]
    public void An_integer_beyond_64_bits_gets_the_reason_NJsonSchemaValidator_gives()
    {
        var schemaJson = """{"type":"object","properties":{"n":{"type":"integer","minimum":0}}}""";
        using var document = JsonDocument.Parse("""{"n":12345678901234567890}""");

        var reasons = FastRecordValidator.For(schemaJson).Validate(document.RootElement);

        Assert.Equal(new NJsonSchemaValidator(schemaJson).Validate(document.RootElement), reasons);
        var reason = Assert.Single(reasons);
        Assert.Contains("could not be validated", reason, StringComparison.Ordinal);
        Assert.Contains("more than 64 bits", reason, StringComparison.Ordinal);
    }

    private static CompiledSchema? Compile(string schemaJson) => CompiledSchema.TryCompile(schemaJson, JsonSchema.FromJsonAsync(schemaJson).GetAwaiter().GetResult());
}
