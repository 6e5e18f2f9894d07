using System.Text.Json;
using Hub.Core.Catalog;

namespace Hub.Core.Tests.Catalog;

public sealed class DeletionRuleTests
{
    [Theory]
    [InlineData("true", """{"id":1,"da_xoa":true}""", true)]
    [InlineData("true", """{"id":1,"da_xoa":"true"}""", true)]
    [InlineData("true", """{"id":1,"da_xoa":false}""", false)]
    [InlineData("true", """{"id":1}""", false)]
    [InlineData("true", """{"id":1,"da_xoa":null}""", false)]
    [InlineData("false", """{"id":1,"da_xoa":false}""", true)]
    [InlineData("da_xoa", """{"id":1,"da_xoa":"da_xoa"}""", true)]
    [InlineData("da_xoa", """{"id":1,"da_xoa":"Da_xoa"}""", false)]
    [InlineData("1", """{"id":1,"da_xoa":1}""", true)]
    [InlineData("1", """{"id":1,"da_xoa":"1"}""", true)]
    [InlineData("1", """{"id":1,"da_xoa":1.0}""", false)]
    [InlineData("true", """[{"da_xoa":true}]""", false)]
    public void A_record_is_a_deletion_when_its_field_holds_the_value(string value, string record, bool marked)
    {
        using var document = JsonDocument.Parse(record);
        Assert.Equal(marked, new DeletionRule("da_xoa", value).Marks(document.RootElement));
    }
}
