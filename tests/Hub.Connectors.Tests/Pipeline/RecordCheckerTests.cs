using System.Text;
using System.Text.Json;
using Hub.Connectors.Configuration;
using Hub.Connectors.Pipeline;
using Hub.Connectors.Privacy;
using Hub.Connectors.Tests.Configuration;
using Hub.Connectors.Validation;
using Hub.Core.Catalog;
using Hub.Core.Records;

namespace Hub.Connectors.Tests.Pipeline;

public class RecordCheckerTests
{
    private static readonly RecordChecker Checker = CreateChecker();

    private static RecordChecker CreateChecker(DeletionRule? deletedWhen = null)
    {
        var (schema, error) = SchemaColumns.Parse("xa.v1.json", ConnectorsFolder.WardSchema, 1);
        Assert.Null(error);
        var dataset = new DatasetDefinition
        {
            Id = "dvhc-xa",
            AgencyCode = "SNV",
            Title = "Xã",
            Licence = "CC-BY-4.0",
            UpdateCycle = UpdateCycle.Yearly,
            Schedule = "0 0 2 * * ?",
            Schema = schema!,
            PrimaryKey = ["ma_xa"],
            Source = new RestSourceDefinition { Url = new Uri("http://agency.test") },
            SourceFile = "snv.yaml",
            ConfigRevision = "r1",
            DeletedWhen = deletedWhen,
        };
        return new RecordChecker(dataset, new NJsonSchemaValidator(schema!.Json), new PersonalDataGuard(schema, null));
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public void A_valid_record_gets_its_key_content_hash_and_canonical_json()
    {
        var record = Json("""{"ten_xa":"Phường Đô Vinh","ma_xa":"22738","dan_so":12000}""");

        var (valid, rejected) = Checker.Check(record);

        Assert.Null(rejected);
        Assert.NotNull(valid);
        Assert.Equal("22738", valid.Key);
        Assert.Equal(RecordHash.ComputeHex(record), valid.Hash);
        Assert.Equal("""{"dan_so":12000,"ma_xa":"22738","ten_xa":"Ph\u01B0\u1EDDng \u0110\u00F4 Vinh"}""", Encoding.UTF8.GetString(valid.Json!));
    }

    [Fact]
    public void A_field_outside_the_schema_is_neither_hashed_nor_sent()
    {
        var plain = Json("""{"ma_xa":"22738","ten_xa":"Phường Đô Vinh","dan_so":12000}""");
        var exported = Json("""{"ma_xa":"22738","ten_xa":"Phường Đô Vinh","dan_so":12000,"exported_at":"2026-11-28T23:00:00Z"}""");

        var (valid, _) = Checker.Check(exported);

        Assert.Equal(Checker.Check(plain).Valid!.Hash, valid!.Hash);
        Assert.DoesNotContain("exported_at", Encoding.UTF8.GetString(valid.Json!), StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_record_is_rejected_whole_with_every_reason()
    {
        const string text = """{"ma_xa":"2273","dan_so":"nhiều","ngay_thanh_lap":"31/12/2020"}""";

        var (valid, rejected) = Checker.Check(Json(text));

        Assert.Null(valid);
        Assert.NotNull(rejected);
        Assert.Equal("2273", rejected.Key);
        Assert.Equal(text, rejected.Json);
        Assert.Contains(rejected.Errors, e => e.Contains("ma_xa", StringComparison.Ordinal) && e.Contains("PatternMismatch", StringComparison.Ordinal));
        Assert.Contains(rejected.Errors, e => e.Contains("ten_xa", StringComparison.Ordinal) && e.Contains("PropertyRequired", StringComparison.Ordinal));
        Assert.Contains(rejected.Errors, e => e.Contains("dan_so", StringComparison.Ordinal) && e.Contains("IntegerExpected", StringComparison.Ordinal));
        Assert.Contains(rejected.Errors, e => e.Contains("ngay_thanh_lap", StringComparison.Ordinal) && e.Contains("DateExpected", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(23)]
    [InlineData(400)] // beyond what Newtonsoft's reader parses at all ("too large to parse")
    public void A_number_too_large_for_the_validator_is_rejected_with_a_reason_instead_of_failing_the_run(int digits)
    {
        var text = $$"""{"ten_xa":"Phường Đô Vinh","ma_xa":"22738","dan_so":{{new string('9', digits)}}}""";

        var (valid, rejected) = Checker.Check(Json(text));

        Assert.Null(valid);
        Assert.Equal(text, rejected!.Json);
        Assert.Contains(rejected.Errors, e => e.Contains("could not be validated", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("\"dien_tich\":1e-20000", "#/dien_tich: the number 1e-20000 is beyond what the store holds")]
    [InlineData("\"dien_tich\":0.0e-16384", "#/dien_tich: the number 0.0e-16384 is beyond")]
    [InlineData("\"ranh_gioi\":{\"toa_do\":[108.9,{\"z\":-1E-16400}]}", "#/ranh_gioi/toa_do/1/z: the number -1E-16400 is beyond")]
    public void A_number_the_store_cannot_hold_rejects_its_record_with_where_it_is(string field, string reason)
    {
        var text = $$"""{"ten_xa":"Phường Đô Vinh","ma_xa":"22738",{{field}}}""";

        var (valid, rejected) = Checker.Check(Json(text));

        Assert.Null(valid);
        Assert.Equal(text, rejected!.Json);
        Assert.StartsWith(reason, Assert.Single(rejected.Errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"dien_tich\":1e-16383")]
    [InlineData("\"dien_tich\":-12345.678e-16375")]
    [InlineData("\"ranh_gioi\":{\"toa_do\":[108.9,1e131071]}")]
    public void A_number_the_store_holds_is_kept(string field)
    {
        var (valid, rejected) = Checker.Check(Json($$"""{"ten_xa":"Phường Đô Vinh","ma_xa":"22738",{{field}}}"""));

        Assert.Null(rejected);
        Assert.NotNull(valid);
    }

    [Fact]
    public void Batches_keep_the_order_and_size_and_count_what_they_hold()
    {
        var records = Enumerable.Range(0, 7)
            .Select(i => Json(i == 3 ? """{"ma_xa":"x"}""" : $$"""{"ten_xa":" Xã {{i}}","ma_xa":"2270{{i}}","dan_so":{{i}}}"""))
            .ToList();
        var seen = new List<string>();

        var batches = Checker.CheckBatches(records.Select(Checker.Map), 3, onValid: r => seen.Add(r.GetProperty("ma_xa").GetString()!)).ToList();

        Assert.Equal([3, 3, 1], batches.Select(b => b.Valid.Count + b.Rejected.Count));
        Assert.Equal(["22700", "22701", "22702", "22704", "22705", "22706"], batches.SelectMany(b => b.Valid).Select(v => v.Key));
        Assert.Equal(seen, batches.SelectMany(b => b.Valid).Select(v => v.Key));
        Assert.Equal("x", Assert.Single(batches[1].Rejected).Key);
        Assert.Equal([3, 2, 1], batches.Select(b => b.Cleanliness.UntrimmedValues));
    }

    [Fact]
    public void A_record_marked_deleted_deletes_its_key_without_being_checked_against_the_schema()
    {
        var checker = CreateChecker(new DeletionRule("da_xoa", "true"));
        List<JsonElement> records =
        [
            Json("""{"ma_xa":"22738","da_xoa":true,"cap_nhat":"2026-03-02T09:00:00+07:00","ly_do":" nhập trùng "}"""),
            Json("""{"ten_xa":"Xã Không Mã","da_xoa":true}"""),
            Json("""{"ma_xa":"22741","ten_xa":" Phường Phước Mỹ","da_xoa":false}"""),
        ];
        var seen = new List<JsonElement>();

        var batch = Assert.Single(checker.CheckBatches(records.Select(checker.Map), 10, onValid: seen.Add));

        Assert.Equal([("22738", true), ("22741", false)], batch.Valid.Select(v => (v.Key, v.Deleted)));
        Assert.Null(batch.Valid[0].Json);
        Assert.NotNull(batch.Valid[1].Json);
        var rejected = Assert.Single(batch.Rejected);
        Assert.Contains(rejected.Errors, e => e.Contains("must still carry its primary key", StringComparison.Ordinal));
        Assert.Equal([records[0], records[2]], seen); // the deletion's cursor counts
        Assert.Equal(1, batch.Cleanliness.UntrimmedValues); // only the record's: a deletion has no values
        Assert.Null(Checker.Check(records[0]).Valid); // without deleted_when it is a record, and lacks ten_xa
    }

    [Fact]
    public void A_record_without_its_key_is_rejected_and_says_so()
    {
        var (valid, rejected) = Checker.Check(Json("""{"ten_xa":"Xã Không Mã"}"""));

        Assert.Null(valid);
        Assert.Null(rejected!.Key);
        Assert.Contains(rejected.Errors, e => e.Contains("primary key field 'ma_xa'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_value_that_is_not_an_object_is_rejected()
    {
        var (valid, rejected) = Checker.Check(Json("\"22738\""));
        Assert.Null(valid);
        Assert.NotEmpty(rejected!.Errors);
    }

    [Fact]
    public void A_record_with_the_published_hash_is_unchanged_and_not_sent_again()
    {
        var record = Json("""{"ma_xa":"22738","ten_xa":"Phường Đô Vinh"}""");
        var published = new Dictionary<string, string> { ["22738"] = RecordHash.ComputeHex(record) };

        var (unchanged, _) = Checker.Check(record, published);
        var (changed, _) = Checker.Check(Json("""{"ma_xa":"22738","ten_xa":"Phường Đô Vinh mới"}"""), published);
        var (fresh, _) = Checker.Check(Json("""{"ma_xa":"22741","ten_xa":"Phường Phước Mỹ"}"""), published);

        Assert.Equal(("22738", published["22738"], (byte[]?)null), (unchanged!.Key, unchanged.Hash, unchanged.Json));
        Assert.NotNull(changed!.Json);
        Assert.NotEqual(published["22738"], changed.Hash);
        Assert.NotNull(fresh!.Json);
    }

    [Fact]
    public void A_changed_record_is_still_validated()
    {
        var published = new Dictionary<string, string> { ["22738"] = new string('0', 64) };

        var (valid, rejected) = Checker.Check(Json("""{"ma_xa":"22738","ten_xa":"x","dan_so":"nhiều"}"""), published);

        Assert.Null(valid);
        Assert.Contains(rejected!.Errors, e => e.Contains("IntegerExpected", StringComparison.Ordinal));
    }
}
