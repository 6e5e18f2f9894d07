using System.Text.Json;
using Hub.Connectors.Pipeline;
using Hub.Connectors.Configuration;
using Hub.Connectors.Tests.Configuration;
using Hub.Core.Catalog;

namespace Hub.Connectors.Tests.Pipeline;

public class RecordMapperTests
{
    private static readonly MappingDefinition Mapping = new(
    [
        new FieldMapping("ma_xa", "MaXa", null, FieldType.Text, []),
        new FieldMapping("ten_xa", "TenXa", null, FieldType.Keep, []),
        new FieldMapping("dan_so", "DanSo", null, FieldType.WholeNumber, ["vi"]),
        new FieldMapping("dien_tich", "DienTich", null, FieldType.Number, ["vi"]),
        new FieldMapping("ngay_thanh_lap", "NgayThanhLap", null, FieldType.Date, ["dd/MM/yyyy"]),
        new FieldMapping("cap_nhat", "CapNhat", null, FieldType.DateTime, ["dd/MM/yyyy HH:mm:ss"]),
        new FieldMapping("con_hieu_luc", "ConHieuLuc", null, FieldType.TrueFalse, []),
    ], KeepUnmapped: false);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public void Vietnamese_formats_convert_to_typed_values_and_unmapped_fields_are_left_out()
    {
        var errors = new List<string>();
        var mapped = RecordMapper.Map(Json("""
            {"MaXa":22738,"TenXa":"Phường Đô Vinh","DanSo":"1.234.567","DienTich":"1.234.567,89","NgayThanhLap":"31/12/2020",
             "CapNhat":"01/03/2025 08:30:00","ConHieuLuc":"Có","Khac":"x"}
            """), Mapping, errors);

        Assert.Empty(errors);
        Assert.Equal(
            """{"ma_xa":"22738","ten_xa":"Phường Đô Vinh","dan_so":1234567,"dien_tich":1234567.89,"ngay_thanh_lap":"2020-12-31","cap_nhat":"2025-03-01T08:30:00+07:00","con_hieu_luc":true}""",
            JsonSerializer.Serialize(mapped, Relaxed));
    }

    [Fact]
    public void Constants_and_kept_fields_are_added()
    {
        var errors = new List<string>();
        var mapping = new MappingDefinition([new FieldMapping("co_quan", null, "SNV", FieldType.Text, []), new FieldMapping("ma_xa", "MaXa", null, FieldType.Keep, [])], KeepUnmapped: true);

        var mapped = RecordMapper.Map(Json("""{"MaXa":"22738","ten_xa":"X"}"""), mapping, errors);

        Assert.Empty(errors);
        Assert.Equal("SNV", mapped.GetProperty("co_quan").GetString());
        Assert.Equal("22738", mapped.GetProperty("ma_xa").GetString());
        Assert.Equal("X", mapped.GetProperty("ten_xa").GetString());
        Assert.False(mapped.TryGetProperty("MaXa", out _));
    }

    [Fact]
    public void A_value_that_cannot_be_converted_quarantines_the_record_with_the_field_and_reason()
    {
        var (schema, _) = SchemaColumns.Parse("xa.v1.json", ConnectorsFolder.WardSchema, 1);
        var dataset = new DatasetDefinition
        {
            Id = "dvhc-xa", AgencyCode = "SNV", Title = "Xã", Licence = "CC-BY-4.0", UpdateCycle = UpdateCycle.Yearly, Schedule = "0 0 2 * * ?",
            Schema = schema!, PrimaryKey = ["ma_xa"], Source = new RestSourceDefinition { Url = new Uri("http://agency.test") },
            SourceFile = "snv.yaml", ConfigRevision = "r1", Mapping = Mapping,
        };
        var checker = RecordChecker.For(dataset, null);
        const string source = """{"MaXa":"22738","TenXa":"Đô Vinh","DanSo":"nhiều","NgayThanhLap":"2020-31-12"}""";

        var (valid, rejected) = checker.Check(Json(source));

        Assert.Null(valid);
        Assert.NotNull(rejected);
        Assert.Equal(source, rejected.Json);
        Assert.Equal("22738", rejected.Key);
        Assert.Contains("field 'dan_so' (from 'DanSo'): 'nhiều' is not a valid integer with format 'vi'", rejected.Errors);
        Assert.Contains("field 'ngay_thanh_lap' (from 'NgayThanhLap'): '2020-31-12' is not a valid date with format 'dd/MM/yyyy'", rejected.Errors);
    }

    [Theory]
    [InlineData("12,5", FieldType.WholeNumber, "vi", false)]
    [InlineData("12,0", FieldType.WholeNumber, "vi", true)]
    [InlineData("1,234.5", FieldType.Number, null, false)]
    [InlineData("1234.5", FieldType.Number, null, true)]
    [InlineData("maybe", FieldType.TrueFalse, null, false)]
    [InlineData("không", FieldType.TrueFalse, null, true)]
    [InlineData("2025-03-01T08:00:00Z", FieldType.DateTime, null, true)]
    public void Conversions_accept_only_what_they_can_read(string text, FieldType type, string? format, bool ok)
    {
        var field = new FieldMapping("x", "x", null, type, format is null ? [] : [format]);
        Assert.Equal(ok, RecordMapper.TryConvert(JsonSerializer.SerializeToElement(text), field, out _, out _));
    }
}
