namespace Hub.Core.Text;

/// <summary>CSV as RFC 4180 writes it, shared by the exports and the reports.</summary>
public static class Csv
{
    /// <summary>A field, quoted (with inner quotes doubled) when it holds a comma, a quote or a line break.</summary>
    public static string Field(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
