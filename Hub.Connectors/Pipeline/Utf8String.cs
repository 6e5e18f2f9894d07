using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;

namespace Hub.Connectors.Pipeline;

/// <summary>
/// A JSON string value read from its raw UTF-8, without making a .NET string of it: a string without escapes is, byte
/// for byte, the UTF-8 of its text.
/// </summary>
internal static class Utf8String
{
    /// <summary>The longest text (in UTF-8 bytes) a caller reads onto the stack.</summary>
    public const int StackBytes = 256;

    /// <summary>The UTF-8 of a string value's text when the value has no escape (and is valid UTF-8); false otherwise.</summary>
    public static bool TryGetText(JsonElement value, out ReadOnlySpan<byte> utf8)
    {
        utf8 = JsonMarshal.GetRawUtf8Value(value)[1..^1];
        return utf8.IndexOf((byte)'\\') < 0 && Utf8.IsValid(utf8);
    }

    /// <summary>
    /// The characters of a string value's text, in <paramref name="chars"/> (at least <see cref="StackBytes"/> long), as
    /// <see cref="JsonElement.GetString"/> would give them; false for a value with escapes or longer than that.
    /// </summary>
    public static bool TryGetChars(JsonElement value, Span<char> chars, out int length)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value)[1..^1];
        length = 0;
        return raw.Length <= chars.Length && raw.IndexOf((byte)'\\') < 0
               && Utf8.ToUtf16(raw, chars, out _, out length, replaceInvalidSequences: false) == OperationStatus.Done;
    }
}
