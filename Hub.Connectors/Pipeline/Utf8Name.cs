using System.Text;

namespace Hub.Connectors.Pipeline;

/// <summary>
/// Property names as UTF-8, to match a record's property with <see cref="System.Text.Json.JsonProperty.NameEquals(ReadOnlySpan{byte})"/>
/// without reading its name into a string. Records mostly list their properties in the schema's order, so the next
/// expected name is tried first.
/// </summary>
internal static class Utf8Name
{
    /// <summary>The name as UTF-8; null when it is not valid UTF-16 (its UTF-8 would stand for another name).</summary>
    public static byte[]? Of(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        return Encoding.UTF8.GetString(bytes) == name ? bytes : null;
    }
}
