using System.Globalization;
using System.Text.RegularExpressions;
using Newtonsoft.Json.Linq;
using NJsonSchema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Hub.Connectors.Tests.Configuration;

/// <summary>docs/connectors.schema.json (for editors) agrees with the files the hub ships and documents.</summary>
public sealed partial class ConfigSchemaTests
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromJsonAsync(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "connectors.schema.json"))).GetAwaiter().GetResult());

    [GeneratedRegex("```yaml\\n(?<yaml>.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();

    /// <summary>YAML as JSON: plain scalars that read as numbers or booleans become them, as an editor's YAML language server does.</summary>
    public static JToken ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JObject(map.Children.Select(c => new JProperty(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode sequence => new JArray(sequence.Children.Select(ToJson)),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: var text } when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var whole) => new JValue(whole),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: var text } when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => new JValue(number),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "false" } scalar => new JValue(scalar.Value == "true"),
        YamlScalarNode scalar => new JValue(scalar.Value),
        _ => JValue.CreateNull(),
    };

    private static ICollection<NJsonSchema.Validation.ValidationError> Validate(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Schema.Value.Validate(ToJson(stream.Documents[0].RootNode));
    }

    public static TheoryData<string> ShippedFiles()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "connectors.d");
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(folder, "*.yaml").Concat(Directory.EnumerateFiles(folder, "*.yml")))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedFiles))]
    public void Every_shipped_connectors_file_validates_against_the_schema(string file)
    {
        var errors = Validate(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "connectors.d", file)));
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
    }

    [Fact]
    public void Every_example_in_the_docs_validates_against_the_schema()
    {
        var docs = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "connectors.md"));
        var examples = YamlBlock().Matches(docs).Select(m => m.Groups["yaml"].Value).Where(y => y.StartsWith("version: 1", StringComparison.Ordinal)).ToList();

        Assert.True(examples.Count >= 4, $"only {examples.Count} full examples in docs/connectors.md");
        foreach (var example in examples)
        {
            var errors = Validate(example);
            Assert.True(errors.Count == 0, example[..Math.Min(300, example.Length)] + "\n" + string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
        }
    }

    [Fact]
    public void Every_example_in_the_docs_loads_when_its_schema_and_variables_exist()
    {
        var docs = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "connectors.md"));
        foreach (var example in YamlBlock().Matches(docs).Select(m => m.Groups["yaml"].Value).Where(y => y.StartsWith("version: 1", StringComparison.Ordinal)))
        {
            using var folder = new ConnectorsFolder();
            var stream = new YamlStream();
            stream.Load(new StringReader(example));
            foreach (var dataset in ((YamlSequenceNode)((YamlMappingNode)stream.Documents[0].RootNode)["datasets"]).Children.Cast<YamlMappingNode>())
            {
                // A schema with the dataset's key and mapped fields, so the loader's cross-checks run on the example.
                var fields = new HashSet<string>(ToJson(dataset["primary_key"]) is JArray keys ? keys.Select(k => (string)k!) : [(string)ToJson(dataset["primary_key"])!]);
                if (dataset.Children.TryGetValue(new YamlScalarNode("mapping"), out var mapping))
                {
                    fields.UnionWith(((YamlMappingNode)((YamlMappingNode)mapping)["fields"]).Children.Keys.Cast<YamlScalarNode>().Select(k => k.Value!));
                }

                var schemaPath = Path.Combine(folder.Path, ((YamlScalarNode)dataset["schema"]).Value!);
                File.WriteAllText(schemaPath, new JObject(new JProperty("type", "object"),
                    new JProperty("properties", new JObject(fields.Select(f => new JProperty(f, new JObject(new JProperty("type", "string"))))))).ToString());
            }

            folder.Write("example.yaml", example.Replace("${file:/run/secrets/sxd-token}", "${env:SXD_TOKEN}", StringComparison.Ordinal));

            var result = Hub.Connectors.Configuration.CatalogLoader.LoadDirectory(folder.Path, ExampleEnvironment);

            Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors));
            Assert.NotEmpty(result.Datasets);
        }
    }

    /// <summary>Addresses fall back to the defaults written in the examples; secrets get a value.</summary>
    private static string? ExampleEnvironment(string name) =>
        name.EndsWith("_URL", StringComparison.Ordinal) || name.EndsWith("_ODATA", StringComparison.Ordinal) || name.EndsWith("_API", StringComparison.Ordinal) ? null : "secret-value";

    [Theory]
    [InlineData("soap", "")]
    [InlineData("odata", "")]
    [InlineData("csv", "")]
    [InlineData("cursor", "")]
    [InlineData("cursor", "mapping")]
    public void The_files_the_loader_accepts_validate_against_the_schema(string kind, string extra)
    {
        var source = kind switch { "soap" => SourceConfigTests.SoapSource, "odata" => SourceConfigTests.ODataSource, "csv" => SourceConfigTests.CsvSource, _ => SourceConfigTests.CursorSource };
        var errors = Validate(SourceConfigTests.File_(source, SourceConfigTests.RateLimit, extra == "mapping" ? SourceConfigTests.Mapping : ""));
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
    }

    [Theory]
    [InlineData("record_path: $.items", "recordpath: $.items")]
    [InlineData("token: ${file:SECRET_FILE}", "token: plain-text-token")]
    [InlineData("style: cursor", "style: scroll")]
    [InlineData("kind: rest", "kind: ftp")]
    public void The_schema_rejects_what_the_loader_rejects(string good, string bad)
    {
        var yaml = SourceConfigTests.File_(SourceConfigTests.CursorSource).Replace(good, bad, StringComparison.Ordinal);
        Assert.NotEmpty(Validate(yaml));
    }
}
