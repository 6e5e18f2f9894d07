using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Hub.Core.Text;

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
            var value = property.Value;
            if (value.ValueKind != JsonValueKind.String || IsCertainlyClean(value))
            {
                continue;
            }

            var text = value.GetString()!;
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

    /// <summary>
    /// True when a JSON string is certainly neither blank nor untrimmed, read from its first and last characters without
    /// making a string of it: it is valid UTF-8 without escapes, and neither its first nor its last character is white
    /// space (so it holds one that is not). False when it cannot tell: the string is then read as a .NET string.
    /// </summary>
    private static bool IsCertainlyClean(JsonElement value) =>
        Utf8String.TryGetUnescaped(value, out var text) && Utf8.IsValid(text)
        && Rune.DecodeFromUtf8(text, out var first, out _) == OperationStatus.Done && !Rune.IsWhiteSpace(first)
        && Rune.DecodeLastFromUtf8(text, out var last, out _) == OperationStatus.Done && !Rune.IsWhiteSpace(last);
}
