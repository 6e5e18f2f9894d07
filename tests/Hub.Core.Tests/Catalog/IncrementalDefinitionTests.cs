using Hub.Core.Catalog;

namespace Hub.Core.Tests.Catalog;

public sealed class IncrementalDefinitionTests
{
    [Theory]
    [InlineData("2025-03-01T08:00:00+07:00", "01:00:00", "2025-03-01T07:00:00+07:00")]
    [InlineData("2025-03-01T00:30:00Z", "01:00:00", "2025-02-28T23:30:00+00:00")]
    [InlineData("2025-03-01T08:00:00.250", "00:00:30", "2025-03-01T07:59:30.25")]
    [InlineData("2025-03-01", "1.00:00:00", "2025-02-28T00:00:00")]
    [InlineData("1042", "01:00:00", "1042")]
    [InlineData("v-17", "01:00:00", "v-17")]
    public void The_cursor_sent_is_the_stored_one_minus_the_lookback_in_the_same_form(string cursor, string lookback, string expected) =>
        Assert.Equal(expected, IncrementalDefinition.Since(cursor, TimeSpan.Parse(lookback, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void A_template_places_the_cursor_in_an_odata_filter() =>
        Assert.Equal("NgayCapNhat ge 2025-03-01T07:00:00+07:00",
            new IncrementalDefinition("NgayCapNhat", "$filter", "NgayCapNhat ge {cursor}", TimeSpan.FromHours(1)).ParameterValue("2025-03-01T08:00:00+07:00"));

    [Theory]
    [InlineData("2025-03-01T08:00:00+07:00", "2025-03-01T02:00:00Z", -1)]
    [InlineData("9", "10", -1)]
    [InlineData("b", "a", 1)]
    // Written alike: compared as text, which orders them the same way.
    [InlineData("2025-03-01T08:00:00+07:00", "2025-03-01T07:59:59+07:00", 1)]
    [InlineData("2025-03-01 08:00:00.125", "2025-03-01 08:00:00.250", -1)]
    [InlineData("2025-03-01T08:00:00Z", "2025-03-01T08:00:00Z", 0)]
    [InlineData("20.5", "19.9", 1)]
    // Alike but for the offset, or a sign: as instants and numbers, not as text.
    [InlineData("2025-03-01T10:00:00+07:00", "2025-03-01T05:00:00+00:00", -1)]
    [InlineData("2025-03-01T10:00:00-07:00", "2025-03-01T11:00:00-03:00", 1)]
    [InlineData("-35", "-34", -1)]
    public void Cursors_compare_as_instants_numbers_or_text(string a, string b, int sign) =>
        Assert.Equal(sign, Math.Sign(IncrementalDefinition.Compare(a, b)));
}
