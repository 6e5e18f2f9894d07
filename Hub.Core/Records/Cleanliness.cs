using System.Text.Json;

namespace Hub.Core.Records;

/// <summary>The "clean" quality dimension of one record: text values that are blank, or that carry leading or trailing spaces.</summary>
public readonly record struct Cleanliness(int BlankValues, int UntrimmedValues)
{
    public static Cleanliness Of(JsonElement record)
    {
        if (record.ValueKind != JsonValueKind.Object)
        {
            return default;
        }

        int blank = 0, untrimmed = 0;
        foreach (var property in record.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.String)
            {
                continue;
            }

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

    public static Cleanliness operator +(Cleanliness left, Cleanliness right) =>
        new(left.BlankValues + right.BlankValues, left.UntrimmedValues + right.UntrimmedValues);

    public static Cleanliness Add(Cleanliness left, Cleanliness right) => left + right;
}
