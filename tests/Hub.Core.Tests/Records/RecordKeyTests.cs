using System.Text.Json;
using Hub.Core.Records;

namespace Hub.Core.Tests.Records;

public class RecordKeyTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public void Single_field_key_is_the_value_itself()
    {
        Assert.True(RecordKey.TryBuild(Json("""{"ma_xa":"22738","x":1}"""), ["ma_xa"], out var key, out var error));
        Assert.Equal("22738", key);
        Assert.Null(error);
    }

    [Fact]
    public void Numeric_key_keeps_its_json_text()
    {
        Assert.True(RecordKey.TryBuild(Json("""{"id":120}"""), ["id"], out var key, out _));
        Assert.Equal("120", key);
    }

    [Fact]
    public void Composite_key_is_a_json_array_of_the_values_in_key_order()
    {
        Assert.True(RecordKey.TryBuild(Json("""{"nam":2025,"ma_xa":"22738"}"""), ["ma_xa", "nam"], out var key, out _));
        Assert.Equal("""["22738","2025"]""", key);
    }

    [Theory]
    [InlineData("""{"ten":"x"}""")]
    [InlineData("""{"ma_xa":null}""")]
    [InlineData("""{"ma_xa":""}""")]
    [InlineData("""{"ma_xa":{"a":1}}""")]
    [InlineData("""{"ma_xa":[1]}""")]
    public void Missing_null_empty_or_structured_key_is_refused_with_the_field_named(string record)
    {
        Assert.False(RecordKey.TryBuild(Json(record), ["ma_xa"], out _, out var error));
        Assert.Contains("'ma_xa'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_that_is_not_an_object_is_refused()
    {
        Assert.False(RecordKey.TryBuild(Json("[1,2]"), ["id"], out _, out var error));
        Assert.Contains("not an object", error, StringComparison.Ordinal);
    }
}
