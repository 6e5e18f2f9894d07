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
    [InlineData("2025-01-01+00:00", "2025-01-01+07:00", 1)]
    public void Cursors_compare_as_instants_numbers_or_text(string a, string b, int sign) =>
        Assert.Equal(sign, Math.Sign(IncrementalDefinition.Compare(a, b)));

    /// <summary>
    /// Values written alike are compared as text without being parsed: that must order every pair as the instants or
    /// numbers they are. Pairs of random values in each layout a source may use, against the order of the parsed values.
    /// </summary>
    [Theory]
    [InlineData("yyyy-MM-dd'T'HH:mm:sszzz")]
    [InlineData("yyyy-MM-dd'T'HH:mm:ss.fffzzz")]
    [InlineData("yyyy-MM-dd HH:mm:ss")]
    [InlineData("yyyy-MM-dd'T'HH:mm:ss'Z'")]
    [InlineData("yyyy-MM-ddzzz")]
    [InlineData("yyyy-MM-dd")]
    public void Values_written_alike_compare_as_their_instants(string layout)
    {
        var random = new Random(layout.Length);
        var start = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 2_000; i++)
        {
            var (x, y) = (Value(), Value());
            var (a, b) = (x.ToString(layout, System.Globalization.CultureInfo.InvariantCulture), y.ToString(layout, System.Globalization.CultureInfo.InvariantCulture));
            var expected = layout.Contains('z', StringComparison.Ordinal) || layout.Contains('Z', StringComparison.Ordinal)
                ? Parsed(a).CompareTo(Parsed(b))
                : string.CompareOrdinal(a, b); // no offset: the same clock, so the text order is the order of the times
            Assert.True(Math.Sign(expected) == Math.Sign(IncrementalDefinition.Compare(a, b)), $"{a} against {b}");
        }

        DateTimeOffset Value() => start.AddSeconds(random.Next(0, 3 * 86_400)).ToOffset(TimeSpan.FromHours(random.Next(-3, 8)));

        static DateTimeOffset Parsed(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("0.50", "1.25", -1)]
    [InlineData("10.5", "09.9", 1)]
    [InlineData("123456", "123457", -1)]
    public void Numbers_written_alike_compare_as_numbers(string a, string b, int sign) =>
        Assert.Equal(sign, Math.Sign(IncrementalDefinition.Compare(a, b)));
}
