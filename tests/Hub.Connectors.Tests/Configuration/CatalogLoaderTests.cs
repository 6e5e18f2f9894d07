using Hub.Connectors.Configuration;
using Hub.Core.Catalog;

namespace Hub.Connectors.Tests.Configuration;

public sealed class CatalogLoaderTests : IDisposable
{
    private readonly ConnectorsFolder folder = new();

    public void Dispose() => folder.Dispose();

    private CatalogLoadResult Load(Func<string, string?>? environment = null) =>
        CatalogLoader.LoadDirectory(folder.Path, environment ?? (_ => null));

    [Fact]
    public void A_good_file_gives_its_agency_datasets_and_typed_columns()
    {
        var file = folder.Write("snv.yaml", ConnectorsFolder.Agency());

        var result = Load();

        Assert.Empty(result.Errors);
        var agency = Assert.Single(result.Agencies);
        Assert.Equal("SNV", agency.Code);
        var dataset = Assert.Single(agency.Datasets);
        Assert.Equal("dvhc-xa", dataset.Id);
        Assert.Equal(UpdateCycle.Yearly, dataset.UpdateCycle);
        Assert.Equal(["ma_xa"], dataset.PrimaryKey);
        Assert.Equal(new Uri("http://agency.test/api/wards"), dataset.Source.Url);
        var rest = Assert.IsType<RestSourceDefinition>(dataset.Source);
        Assert.Equal(PagingStyle.Offset, rest.Paging.Style);
        Assert.Equal(50, rest.Paging.PageSize);
        Assert.Equal(file, dataset.SourceFile);
        Assert.Equal(64, dataset.ConfigRevision.Length);
        Assert.Equal(
            [("ma_xa", ColumnType.Text, true), ("ten_xa", ColumnType.Text, true), ("dan_so", ColumnType.Integer, false),
             ("dien_tich", ColumnType.Number, false), ("ngay_thanh_lap", ColumnType.Date, false), ("cap_nhat", ColumnType.DateTime, false),
             ("con_hieu_luc", ColumnType.Boolean, false), ("ranh_gioi", ColumnType.Json, false)],
            dataset.Schema.Columns.Select(c => (c.Name, c.Type, c.Required)));
    }

    [Fact]
    public void Config_revision_changes_with_the_file_text()
    {
        folder.Write("snv.yaml", ConnectorsFolder.Agency());
        var before = Assert.Single(Load().Datasets).ConfigRevision;
        folder.Write("snv.yaml", ConnectorsFolder.Agency() + "\n# edited\n");
        Assert.NotEqual(before, Assert.Single(Load().Datasets).ConfigRevision);
    }

    [Fact]
    public void Broken_yaml_names_file_and_line_and_the_other_files_still_load()
    {
        folder.Write("a-good.yaml", ConnectorsFolder.Agency("GOOD", "good-dataset"));
        var broken = folder.Write("b-broken.yaml", "version: 1\nagency:\n  code: BAD\n   name: misaligned\ndatasets: []\n");

        var result = Load();

        Assert.Equal("good-dataset", Assert.Single(result.Datasets).Id);
        var error = Assert.Single(result.Errors);
        Assert.Equal(broken, error.File);
        Assert.Equal(4, error.Line);
        Assert.Contains("not valid YAML", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Fix);
        Assert.StartsWith($"{broken}:4:", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_key_is_reported_at_its_line_with_the_key_it_meant()
    {
        var file = folder.Write("snv.yaml", ConnectorsFolder.Agency().Replace("    title: Danh mục xã", "    titel: Danh mục xã", StringComparison.Ordinal));

        var result = Load();

        Assert.Empty(result.Datasets);
        var unknown = Assert.Single(result.Errors, e => e.Message.Contains("unknown key 'titel'", StringComparison.Ordinal));
        Assert.Equal(file, unknown.File);
        Assert.Equal(7, unknown.Line);
        Assert.Equal("did you mean 'title'?", unknown.Fix);
        Assert.Contains(result.Errors, e => e.Message.Contains("has no 'title'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("update_cycle: yearly", "update_cycle: sometimes", "'update_cycle' is 'sometimes'", 9)]
    [InlineData("schedule: \"0 0 2 * * ?\"", "schedule: \"every night\"", "not a valid Quartz cron expression", 10)]
    [InlineData("primary_key: ma_xa", "primary_key: ma_tinh", "primary key field 'ma_tinh' is not a property", 12)]
    [InlineData("schema: schemas/xa.v1.json", "schema: schemas/missing.json", "does not exist", 11)]
    [InlineData("style: offset", "style: scroll", "'style' is 'scroll'", 18)]
    [InlineData("page_size: 50", "page_size: many", "'page_size' must be a whole number", 19)]
    [InlineData("kind: rest", "kind: ftp", "source kind 'ftp' is not supported", 14)]
    [InlineData("record_path: $.data", "record_path: data[0]", "record_path 'data[0]' is not supported", 16)]
    [InlineData("version: 1", "version: 2", "format version 2 is not supported", 1)]
    public void Each_mistake_is_reported_at_the_line_that_holds_it(string good, string bad, string message, int line)
    {
        var file = folder.Write("snv.yaml", ConnectorsFolder.Agency().Replace(good, bad, StringComparison.Ordinal));

        var result = Load();

        Assert.Empty(result.Agencies);
        var error = Assert.Single(result.Errors, e => e.Message.Contains(message, StringComparison.Ordinal));
        Assert.Equal(file, error.File);
        Assert.Equal(line, error.Line);
    }

    [Fact]
    public void A_missing_required_key_is_reported_with_the_fix()
    {
        folder.Write("snv.yaml", ConnectorsFolder.Agency().Replace("    licence: CC-BY-4.0\n", string.Empty, StringComparison.Ordinal));

        var error = Assert.Single(Load().Errors);

        Assert.Equal("a dataset has no 'licence'", error.Message);
        Assert.Equal("add 'licence: CC-BY-4.0'", error.Fix);
    }

    [Fact]
    public void A_secret_dataset_is_refused_at_load()
    {
        folder.Write("snv.yaml", ConnectorsFolder.Agency(extra: "    classification: secret\n"));

        var result = Load();

        Assert.Empty(result.Datasets);
        Assert.Contains(result.Errors, e => e.Message.Contains("classified secret", StringComparison.Ordinal) && e.Message.Contains("Art. 1.2", StringComparison.Ordinal));
    }

    [Fact]
    public void Environment_references_are_resolved_with_defaults_and_unset_ones_are_errors()
    {
        folder.Write("a.yaml", ConnectorsFolder.Agency("A", "from-env", url: "${env:AGENCY_URL}/wards"));
        folder.Write("b.yaml", ConnectorsFolder.Agency("B", "from-default", url: "${env:NOT_SET:-http://fallback.test}/wards"));
        folder.Write("c.yaml", ConnectorsFolder.Agency("C", "unset", url: "${env:NOT_SET}/wards"));

        var result = Load(name => name == "AGENCY_URL" ? "https://agency.test/api" : null);

        Assert.Equal(new Uri("https://agency.test/api/wards"), result.Datasets.Single(d => d.Id == "from-env").Source.Url);
        Assert.Equal(new Uri("http://fallback.test/wards"), result.Datasets.Single(d => d.Id == "from-default").Source.Url);
        var error = Assert.Single(result.Errors);
        Assert.EndsWith("c.yaml", error.File, StringComparison.Ordinal);
        Assert.Contains("NOT_SET", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dataset_id_declared_twice_across_files_keeps_the_first()
    {
        folder.Write("a.yaml", ConnectorsFolder.Agency("A", "same-id"));
        var second = folder.Write("b.yaml", ConnectorsFolder.Agency("B", "same-id"));

        var result = Load();

        Assert.Equal("A", Assert.Single(result.Agencies).Code);
        var error = Assert.Single(result.Errors);
        Assert.Equal(second, error.File);
        Assert.Contains("already declared", error.Message, StringComparison.Ordinal);
        var idLine = Array.FindIndex(File.ReadAllLines(second), line => line.Trim() == "- id: same-id") + 1;
        Assert.True(idLine > 1, "the test agency file declares the dataset below its first line");
        Assert.Equal(idLine, error.Line);
    }

    [Fact]
    public void A_missing_folder_is_one_clear_error()
    {
        var result = CatalogLoader.LoadDirectory(Path.Combine(folder.Path, "nope"), _ => null);
        Assert.Contains("does not exist", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_shipped_connectors_folder_is_valid()
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "connectors.d");
        var result = CatalogLoader.LoadDirectory(shipped, _ => null);
        Assert.Empty(result.Errors);
        Assert.Contains(result.Datasets, d => d.Id == "dvhc-xa-ninh-thuan");
    }
}
