using Hub.Connectors.Configuration;
using Hub.Connectors.Http;
using Hub.Core.Catalog;

namespace Hub.Connectors.Tests.Configuration;

/// <summary>The <c>incremental:</c> section of a dataset, and how the cursor reaches the agency's URL.</summary>
public sealed class IncrementalConfigTests : IDisposable
{
    private const string Incremental = "    incremental:\n      cursor_field: NgayCapNhat\n      param: $filter\n      template: \"NgayCapNhat ge {cursor}\"\n      lookback: 2h\n";

    private readonly ConnectorsFolder folder = new();

    public void Dispose() => folder.Dispose();

    private CatalogLoadResult Load(string yaml)
    {
        folder.Write("snv.yaml", yaml);
        return CatalogLoader.LoadDirectory(folder.Path, name => name == "ODATA_SECRET" ? "o-secret" : null);
    }

    [Fact]
    public void An_incremental_odata_dataset_loads_and_ands_the_cursor_with_its_own_filter()
    {
        var result = Load(SourceConfigTests.File_(SourceConfigTests.ODataSource, datasetExtra: Incremental));

        Assert.Empty(result.Errors);
        var dataset = Assert.Single(result.Datasets);
        Assert.Equal(new IncrementalDefinition("NgayCapNhat", "$filter", "NgayCapNhat ge {cursor}", TimeSpan.FromHours(2)), dataset.Incremental);
        var source = Assert.IsType<ODataSourceDefinition>(IncrementalQuery.Apply(dataset.Source, dataset.Incremental!, "2025-03-01T08:00:00+07:00"));
        Assert.Equal("(MaTinh eq '58') and (NgayCapNhat ge 2025-03-01T06:00:00+07:00)", source.Filter);
    }

    [Fact]
    public void A_rest_dataset_gets_the_cursor_as_a_query_parameter_next_to_its_own()
    {
        var result = Load(SourceConfigTests.File_("kind: rest\nurl: \"https://api.test/wards?tinh=58\"\nrecord_path: $.items\n", datasetExtra: "    incremental: { cursor_field: cap_nhat, param: updated_since }\n"));

        var dataset = Assert.Single(result.Datasets);
        Assert.Equal(TimeSpan.Zero, dataset.Incremental!.Lookback);
        Assert.Equal("https://api.test/wards?tinh=58&updated_since=2025-03-01T08%3A00%3A00%2B07%3A00",
            IncrementalQuery.Apply(dataset.Source, dataset.Incremental, "2025-03-01T08:00:00+07:00").Url.AbsoluteUri);
    }

    [Theory]
    [InlineData("template: \"NgayCapNhat ge {cursor}\"", "template: \"NgayCapNhat ge x\"", "has no {cursor}")]
    [InlineData("lookback: 2h", "lookback: two hours", "'lookback' must be a positive duration")]
    [InlineData("cursor_field: NgayCapNhat", "cursor_fields: NgayCapNhat", "unknown key 'cursor_fields'")]
    public void Each_mistake_is_reported_at_its_line(string good, string bad, string message)
    {
        var yaml = SourceConfigTests.File_(SourceConfigTests.ODataSource, datasetExtra: Incremental).Replace(good, bad, StringComparison.Ordinal);
        var line = yaml.Split('\n').ToList().FindIndex(l => l.Contains(bad, StringComparison.Ordinal)) + 1;

        var result = Load(yaml);

        Assert.Empty(result.Datasets);
        var error = Assert.Single(result.Errors, e => e.Message.Contains(message, StringComparison.Ordinal));
        Assert.Equal(line, error.Line);
    }

    [Theory]
    [InlineData("    deleted_when: { field: DaXoa }\n", "DaXoa", "true")]
    [InlineData("    deleted_when:\n      field: trang_thai\n      equals: da_xoa\n", "trang_thai", "da_xoa")]
    [InlineData("    deleted_when: { field: DaXoa, equals: True }\n", "DaXoa", "true")]
    public void Deleted_when_names_the_field_and_the_value_that_mark_a_deletion(string section, string field, string value)
    {
        var result = Load(SourceConfigTests.File_(SourceConfigTests.ODataSource, datasetExtra: Incremental + section));

        Assert.Empty(result.Errors);
        Assert.Equal(new DeletionRule(field, value), Assert.Single(result.Datasets).DeletedWhen);
    }

    [Theory]
    [InlineData("    deleted_when: { equals: true }\n", "'deleted_when' has no 'field'")]
    [InlineData("    deleted_when: { field: DaXoa, value: true }\n", "unknown key 'value'")]
    [InlineData("    deleted_when: DaXoa\n", "'deleted_when' must be a mapping")]
    public void A_broken_deleted_when_is_reported_at_its_line(string section, string message)
    {
        var yaml = SourceConfigTests.File_(SourceConfigTests.ODataSource, datasetExtra: section);
        var line = yaml.Split('\n').ToList().FindIndex(l => l.Contains("deleted_when", StringComparison.Ordinal)) + 1;

        var result = Load(yaml);

        Assert.Empty(result.Datasets);
        var error = Assert.Single(result.Errors, e => e.Message.Contains(message, StringComparison.Ordinal));
        Assert.Equal(line, error.Line);
    }

    [Fact]
    public void A_soap_source_cannot_be_incremental()
    {
        var result = Load(SourceConfigTests.File_(SourceConfigTests.SoapSource, datasetExtra: Incremental));

        Assert.Empty(result.Datasets);
        Assert.Contains(result.Errors, e => e.Message.Contains("a SOAP source does not take", StringComparison.Ordinal));
    }
}
