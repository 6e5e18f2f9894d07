using System.Text.Json;
using Hub.Connectors.Configuration;
using Hub.Connectors.Privacy;
using Hub.Connectors.Tests.Configuration;
using Hub.Core.Catalog;

namespace Hub.Connectors.Tests.Privacy;

public sealed class PersonalDataGuardTests : IDisposable
{
    private const string Schema =
        """
        {
          "type": "object",
          "properties": {
            "ma": { "type": "string" },
            "ho_ten": { "type": "string", "x-personal-data": "mask" },
            "cccd": { "type": "integer", "x-personal-data": "hash" },
            "dien_thoai": { "type": "string", "x-personal-data": "drop" }
          }
        }
        """;

    private static readonly byte[] Key = "a-test-key-that-is-long-enough-0123456789"u8.ToArray();

    private readonly ConnectorsFolder folder = new();

    public void Dispose() => folder.Dispose();

    private static DatasetSchema Parse(string json)
    {
        var (schema, error) = SchemaColumns.Parse("p.json", json, 1);
        Assert.Null(error);
        return schema!;
    }

    [Fact]
    public void Marks_are_read_from_the_schema_and_masked_or_hashed_fields_are_stored_as_text()
    {
        var columns = Parse(Schema).Columns.ToDictionary(c => c.Name);

        Assert.Equal((PersonalData.None, ColumnType.Text), (columns["ma"].Personal, columns["ma"].Type));
        Assert.Equal((PersonalData.Mask, ColumnType.Text), (columns["ho_ten"].Personal, columns["ho_ten"].Type));
        Assert.Equal((PersonalData.Hash, ColumnType.Text), (columns["cccd"].Personal, columns["cccd"].Type));
        Assert.Equal(PersonalData.Drop, columns["dien_thoai"].Personal);
    }

    [Fact]
    public void An_unknown_mark_is_a_schema_error()
    {
        var (schema, error) = SchemaColumns.Parse("p.json", Schema.Replace("\"drop\"", "\"hide\"", StringComparison.Ordinal), 1);
        Assert.Null(schema);
        Assert.Contains("\"x-personal-data\": \"hide\"", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_canonical_json_drops_masks_and_hashes_and_leaves_the_rest()
    {
        var guard = new PersonalDataGuard(Parse(Schema), Key);
        var record = JsonDocument.Parse("""{"ma":"X1","ho_ten":"Nguyễn Văn An","cccd":58123456789,"dien_thoai":"0912345678","khac":1}""").RootElement;

        var protectedRecord = JsonDocument.Parse(guard.CanonicalJson(record)).RootElement;

        Assert.Equal(["cccd", "ho_ten", "ma"], protectedRecord.EnumerateObject().Select(p => p.Name));
        Assert.Equal("X1", protectedRecord.GetProperty("ma").GetString());
        Assert.Equal("**********" + " An", protectedRecord.GetProperty("ho_ten").GetString());
        var hash = protectedRecord.GetProperty("cccd").GetString()!;
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Key, "58123456789"u8)), hash);
        Assert.Equal(guard.CanonicalJson(record), guard.CanonicalJson(record));
        var otherKey = new PersonalDataGuard(Parse(Schema), "another-key-that-is-long-enough-0123456789"u8.ToArray());
        Assert.NotEqual(hash, JsonDocument.Parse(otherKey.CanonicalJson(record)).RootElement.GetProperty("cccd").GetString());
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("Hoa", "***")]
    [InlineData("123456", "******")]
    [InlineData("0912345678", "*******678")]
    public void Mask_keeps_only_the_last_three_characters_of_values_longer_than_six(string value, string masked) =>
        Assert.Equal(masked, PersonalDataGuard.Mask(value));

    [Fact]
    public void Hashing_without_a_key_is_refused_with_the_setting_to_fix()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new PersonalDataGuard(Parse(Schema), null));
        Assert.Contains("Privacy__HashKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_primary_key_marked_as_personal_data_is_a_config_error()
    {
        File.WriteAllText(Path.Combine(folder.Path, "schemas", "xa.v1.json"), ConnectorsFolder.WardSchema.Replace(
            "\"ma_xa\": { \"type\": \"string\", \"pattern\": \"^[0-9]{5}$\" }", "\"ma_xa\": { \"type\": \"string\", \"x-personal-data\": \"hash\" }", StringComparison.Ordinal));
        folder.Write("snv.yaml", ConnectorsFolder.Agency());

        var result = CatalogLoader.LoadDirectory(folder.Path, _ => null);

        Assert.Contains(result.Errors, e => e.Message.Contains("primary key field 'ma_xa' is marked as personal data", StringComparison.Ordinal) && e.Line == 12);
    }
}
