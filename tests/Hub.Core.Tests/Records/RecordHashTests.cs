using System.Text.Json;
using Hub.Core.Records;

namespace Hub.Core.Tests.Records;

public class RecordHashTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public void Same_content_in_another_property_order_and_layout_hashes_the_same()
    {
        var a = RecordHash.ComputeHex(Json("""{"ma_xa":"22738","ten_xa":"Phường Đô Vinh","so":[1,2,{"b":1,"a":2}]}"""));
        var b = RecordHash.ComputeHex(Json("""
            {
              "so": [1, 2, {"a": 2, "b": 1}],
              "ten_xa": "Phường Đô Vinh",
              "ma_xa": "22738"
            }
            """));
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData("""{"ma_xa":"22738","ten_xa":"Phường Đô Vinh!"}""")]
    [InlineData("""{"ma_xa":"22738","ten_xa":null}""")]
    [InlineData("""{"ma_xa":"22738"}""")]
    [InlineData("""{"ma_xa":22738,"ten_xa":"Phường Đô Vinh"}""")]
    public void Any_change_of_content_changes_the_hash(string changed)
    {
        var original = RecordHash.ComputeHex(Json("""{"ma_xa":"22738","ten_xa":"Phường Đô Vinh"}"""));
        Assert.NotEqual(original, RecordHash.ComputeHex(Json(changed)));
    }

    [Fact]
    public void Array_order_is_content()
    {
        Assert.NotEqual(RecordHash.ComputeHex(Json("[1,2]")), RecordHash.ComputeHex(Json("[2,1]")));
    }

    [Fact]
    public void Hash_is_the_sha256_of_the_canonical_json()
    {
        var record = Json("""{ "b": "ă", "a": 1 }""");
        var canonical = RecordHash.CanonicalJson(record);
        Assert.Equal("""{"a":1,"b":"\u0103"}""", System.Text.Encoding.UTF8.GetString(canonical));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(canonical)), RecordHash.ComputeHex(record));
        Assert.Equal(64, RecordHash.ComputeHex(record).Length);
    }
}
