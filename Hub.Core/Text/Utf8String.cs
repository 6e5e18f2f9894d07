using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;

namespace Hub.Core.Text;

/// <summary>
/// A JSON string value read from its raw UTF-8, without making a .NET string of it: a string without escapes is, byte
/// for byte, the UTF-8 of its text (JSON allows no raw control character in a string).
/// </summary>
public static class Utf8String
{
    /// <summary>The longest text (in UTF-8 bytes) the callers decode onto the stack.</summary>
    public const int StackBytes = 256;

    /// <summary>The UTF-8 between the quotes of a string value, when it has no escape; false otherwise.</summary>
    public static bool TryGetUnescaped(JsonElement value, out ReadOnlySpan<byte> utf8) =>
        TryGetUnescaped(JsonMarshal.GetRawUtf8Value(value), out utf8);

    /// <summary>The UTF-8 between the quotes of a string's raw JSON (<paramref name="quoted"/>), when it has no escape; false otherwise.</summary>
    public static bool TryGetUnescaped(ReadOnlySpan<byte> quoted, out ReadOnlySpan<byte> utf8)
    {
        utf8 = quoted[1..^1];
        return utf8.IndexOf((byte)'\\') < 0;
    }

    /// <summary>
    /// The characters of <paramref name="utf8"/> in <paramref name="chars"/> (at least as long), as
    /// <see cref="JsonElement.GetString"/> gives them; false when it is not valid UTF-8 (GetString throws).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> utf8, Span<char> chars, out int length) =>
        Utf8.ToUtf16(utf8, chars, out _, out length, replaceInvalidSequences: false) == OperationStatus.Done;
}
