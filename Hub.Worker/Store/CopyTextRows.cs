using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Hub.Core.Messages;
using Hub.Core.Text;

namespace Hub.Worker.Store;

/// <summary>
/// The rows of a run's staging table in COPY's text format, written as UTF-8 straight from each record's canonical JSON
/// (<see cref="ValidRecord.Json"/>), without a .NET string per value. Each top-level property goes to the column of its
/// name, as PostgreSQL's <c>jsonb_populate_record</c> would convert it: a string's text, any other value's JSON text,
/// and a jsonb column takes the JSON value itself; a property without a column is ignored; a column without a property,
/// or whose property is null, is <c>\N</c>. A string without backslash escapes is copied as its bytes (JSON allows no
/// raw control character in a string, so it holds nothing COPY escapes); an escaped one is unescaped first.
/// </summary>
public sealed class CopyTextRows
{
    private static readonly SearchValues<byte> CopySpecial = SearchValues.Create("\\\t\n\r"u8);

    private readonly IReadOnlyList<TableColumn> columns;

    /// <summary>The columns' UTF-8 names in ordinal order of the names (the canonical JSON's order), with their index.</summary>
    private readonly (byte[] Name, int Column)[] sorted;

    /// <summary>Position in <see cref="sorted"/> by name.</summary>
    private readonly Dictionary<string, int> positions;

    /// <summary>Where each column's value lies in the record being written (its JSON token); (0, 0) when it has none.</summary>
    private readonly (int Start, int End)[] values;

    public CopyTextRows(IReadOnlyList<TableColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        this.columns = columns;
        sorted = [.. columns.Select((c, i) => (c.Name, i)).OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => (Encoding.UTF8.GetBytes(c.Name), c.i))];
        positions = new Dictionary<string, int>(columns.Count, StringComparer.Ordinal);
        for (var i = 0; i < sorted.Length; i++)
        {
            positions[columns[sorted[i].Column].Name] = i;
        }

        values = new (int, int)[columns.Count];
    }

    /// <summary>
    /// Writes one row: the data columns, then <c>_key</c>, <c>_hash</c>, <c>_sequence</c>, <c>_ordinal</c>,
    /// <c>_changed</c> (false, with empty data columns, for a record without JSON: unchanged since the published version)
    /// and <c>_deleted</c> (true, with empty data columns, for a deletion of the key).
    /// </summary>
    public void Write(IBufferWriter<byte> output, ValidRecord record, int sequence, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(record);
        if (record.Json is not { } json)
        {
            for (var i = 0; i < columns.Count; i++)
            {
                output.Write("\\N\t"u8);
            }
        }
        else
        {
            Locate(json);
            for (var i = 0; i < columns.Count; i++)
            {
                WriteValue(output, json, values[i], columns[i].IsJson);
                output.Write("\t"u8);
            }
        }

        WriteText(output, record.Key);
        output.Write("\t"u8);
        WriteText(output, record.Hash);
        output.Write("\t"u8);
        WriteNumber(output, sequence);
        output.Write("\t"u8);
        WriteNumber(output, ordinal);
        output.Write(record.Deleted ? "\tt\tt\n"u8 : record.Json is null ? "\tf\tf\n"u8 : "\tt\tf\n"u8);
    }

    /// <summary>Finds the value of each column in a record's JSON object (the last one of a property given twice).</summary>
    private void Locate(ReadOnlySpan<byte> json)
    {
        Array.Clear(values);
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a staged record's JSON is not an object");
        }

        var next = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var column = Find(ref reader, ref next);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (column >= 0)
            {
                values[column] = (start, (int)reader.BytesConsumed);
            }
        }
    }

    /// <summary>The column of the property name under the reader, or -1; the canonical JSON lists its properties in <see cref="sorted"/>'s order.</summary>
    private int Find(ref Utf8JsonReader reader, ref int next)
    {
        for (var i = next; i < sorted.Length; i++)
        {
            if (reader.ValueTextEquals(sorted[i].Name))
            {
                next = i + 1;
                return sorted[i].Column;
            }
        }

        // Out of order (a property given twice), or a property without a column.
        if (positions.TryGetValue(reader.GetString()!, out var position))
        {
            next = position + 1;
            return sorted[position].Column;
        }

        return -1;
    }

    private static void WriteValue(IBufferWriter<byte> output, ReadOnlySpan<byte> json, (int Start, int End) token, bool isJson)
    {
        if (token.End == 0 || json[token.Start] == (byte)'n')
        {
            output.Write("\\N"u8);
            return;
        }

        var raw = json[token.Start..token.End];
        if (isJson || raw[0] != (byte)'"')
        {
            WriteEscaped(output, raw);
        }
        else if (Utf8String.TryGetUnescaped(raw, out var utf8))
        {
            output.Write(utf8);
        }
        else
        {
            WriteUnescaped(output, raw);
        }
    }

    /// <summary>The text of a JSON string with escapes (<paramref name="quoted"/>, quotes included), COPY-escaped.</summary>
    private static void WriteUnescaped(IBufferWriter<byte> output, ReadOnlySpan<byte> quoted)
    {
        var reader = new Utf8JsonReader(quoted);
        reader.Read();
        // Unescaped, a JSON string's UTF-8 is never longer than its escaped text.
        byte[]? rented = null;
        Span<byte> buffer = quoted.Length <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(quoted.Length));
        try
        {
            WriteEscaped(output, buffer[..reader.CopyString(buffer)]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>A value in COPY's text format: backslash, tab, newline and carriage return escaped.</summary>
    private static void WriteEscaped(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        for (var at = value.IndexOfAny(CopySpecial); at >= 0; at = value.IndexOfAny(CopySpecial))
        {
            output.Write(value[..at]);
            output.Write(value[at] switch
            {
                (byte)'\t' => "\\t"u8,
                (byte)'\n' => "\\n"u8,
                (byte)'\r' => "\\r"u8,
                _ => "\\\\"u8,
            });
            value = value[(at + 1)..];
        }

        output.Write(value);
    }

    /// <summary>A .NET string as UTF-8, COPY-escaped.</summary>
    private static void WriteText(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        var length = Encoding.UTF8.GetBytes(text, span);
        if (span[..length].IndexOfAny(CopySpecial) < 0)
        {
            output.Advance(length);
        }
        else
        {
            WriteEscaped(output, span[..length].ToArray());
        }
    }

    private static void WriteNumber(IBufferWriter<byte> output, int value)
    {
        var span = output.GetSpan(11);
        Utf8Formatter.TryFormat(value, span, out var length);
        output.Advance(length);
    }
}
