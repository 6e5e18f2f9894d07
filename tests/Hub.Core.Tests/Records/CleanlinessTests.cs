using System.Globalization;
using System.Text;
using System.Text.Json;
using Hub.Core.Records;

namespace Hub.Core.Tests.Records;

public class CleanlinessTests
{
    [Fact]
    public void Blank_and_untrimmed_text_values_are_counted_and_other_values_are_not()
    {
        var record = JsonDocument.Parse("""{"a":"","b":"   ","c":" x","d":"x\t","e":"x","f":1,"g":null,"h":[" "],"i":"\u3000","j":"Phước "}""").RootElement;

        Assert.Equal(new Cleanliness(3, 3), Cleanliness.Of(record));
    }

    [Fact]
    public void Every_character_first_last_or_alone_counts_as_a_net_string_would_have_it_raw_or_escaped()
    {
        // The raw UTF-8 shortcut must agree with char.IsWhiteSpace on the .NET string for every character of the BMP
        // (Latin-1, the Unicode spaces, U+0085, U+200B and U+FEFF, which are not white space, ...), whether the agency
        // sent it as UTF-8 or escaped, and with a supplementary character at either end.
        foreach (var escaped in new[] { false, true })
        {
            for (var c = 0; c <= 0xFFFF; c++)
            {
                if (char.IsSurrogate((char)c))
                {
                    continue;
                }

                var ch = ((char)c).ToString();
                string[] values = [ch, ch + "x", "x" + ch, ch + "Đà" + ch, "😀" + ch, ch + "𝔘", "\\" + ch, ch + "\"", "😀"];
                var record = Record(values, escaped);
                Assert.True(Reference(record) == Cleanliness.Of(record), $"U+{c:X4}: {record.GetRawText()}");
            }
        }
    }

    /// <summary>
    /// An object with one property per value: each string as its UTF-8 (what JSON must escape escaped), or with every
    /// character but printable ASCII escaped.
    /// </summary>
    private static JsonElement Record(string[] values, bool escaped)
    {
        var json = new StringBuilder("{");
        for (var i = 0; i < values.Length; i++)
        {
            json.Append(i == 0 ? "" : ",").Append("\"p").Append(i).Append("\":\"");
            foreach (var ch in values[i])
            {
                if (ch is '"' or '\\' || ch < ' ' || (escaped && ch > '~'))
                {
                    json.Append("\\u").Append(((int)ch).ToString("X4", CultureInfo.InvariantCulture));
                }
                else
                {
                    json.Append(ch);
                }
            }

            json.Append('"');
        }

        return JsonDocument.Parse(Encoding.UTF8.GetBytes(json.Append('}').ToString())).RootElement;
    }

    /// <summary>What is counted, read from each value as a .NET string.</summary>
    private static Cleanliness Reference(JsonElement record)
    {
        int blank = 0, untrimmed = 0;
        foreach (var property in record.EnumerateObject())
        {
            var text = property.Value.GetString()!;
            if (string.IsNullOrWhiteSpace(text))
            {
                blank++;
            }
            else if (char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1]))
            {
                untrimmed++;
            }
        }

        return new Cleanliness(blank, untrimmed);
    }
}
