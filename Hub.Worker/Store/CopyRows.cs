using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Hub.Core.Messages;

namespace Hub.Worker.Store;

/// <summary>
/// The rows of a run's staging table for COPY, written as bytes straight from each record's canonical JSON
/// (<see cref="ValidRecord.Json"/>), without a .NET string per value. Each top-level property goes to the column of its
/// name, as PostgreSQL's <c>jsonb_populate_record</c> would convert it: a string's text, any other value's JSON text,
/// and a jsonb column takes the JSON value itself; a property without a column is ignored; a column without a property,
/// or whose property is null, is null.
/// <list type="bullet">
/// <item>In COPY's text format (<see cref="WriteText"/>), which PostgreSQL converts with each column type's input
/// function. A string without backslash escapes is copied as its bytes (JSON allows no raw control character in a
/// string, so it holds nothing COPY escapes); an escaped one is unescaped first.</item>
/// <item>In COPY's binary format (<see cref="TryWriteBinary"/>), converted here when the value has a form
/// <see cref="CopyBinaryValues"/> writes exactly as the input function would read its text: PostgreSQL then parses no
/// date, time or number, which was its largest cost in staging a batch.</item>
/// </list>
/// </summary>
public sealed class CopyRows
{
    /// <summary>The binary format's header: signature, flags and header extension length.</summary>
    public static ReadOnlySpan<byte> BinaryHeader => [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xff, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>The binary format's trailer: a field count of -1.</summary>
    public static ReadOnlySpan<byte> BinaryTrailer => [0xff, 0xff];

    /// <summary>A null field in the binary format: a length of -1.</summary>
    private static ReadOnlySpan<byte> BinaryNull => [0xff, 0xff, 0xff, 0xff];

    private static readonly SearchValues<byte> CopySpecial = SearchValues.Create("\\\t\n\r"u8);
    private static readonly SearchValues<byte> JsonSpace = SearchValues.Create(" \t\n\r"u8);
    private static readonly SearchValues<byte> StringStop = SearchValues.Create("\"\\"u8);
    private static readonly SearchValues<byte> Structure = SearchValues.Create("\"{}[]"u8);
    private static readonly SearchValues<byte> ScalarEnd = SearchValues.Create(",}] \t\n\r"u8);

    private readonly IReadOnlyList<TableColumn> columns;

    /// <summary>The columns' UTF-8 names in ordinal order of the names (the canonical JSON's order), with their index.</summary>
    private readonly (byte[] Name, int Column)[] sorted;

    /// <summary>Position in <see cref="sorted"/> by name.</summary>
    private readonly Dictionary<string, int> positions;

    /// <summary>Where each column's value lies in the record being written (its JSON token); (0, 0) when it has none.</summary>
    private readonly (int Start, int End)[] values;

    /// <summary>The type of each column, as far as the binary format needs it.</summary>
    private readonly ColumnKind[] kinds;

    /// <summary>Room for a string decoded on its own: a property name out of order, the text of a date or a date-time.</summary>
    private readonly ArrayBufferWriter<byte> decoded = new(64);

    public CopyRows(IReadOnlyList<TableColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        this.columns = columns;
        kinds = [.. columns.Select(c => KindOf(c.Type))];
        HasBinaryForm = !kinds.Contains(ColumnKind.Other);
        sorted = [.. columns.Select((c, i) => (c.Name, i)).OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => (Encoding.UTF8.GetBytes(c.Name), c.i))];
        positions = new Dictionary<string, int>(columns.Count, StringComparer.Ordinal);
        for (var i = 0; i < sorted.Length; i++)
        {
            positions[columns[sorted[i].Column].Name] = i;
        }

        values = new (int, int)[columns.Count];
    }

    /// <summary>False when a column has a type the binary rows cannot be written for: every batch then goes in text.</summary>
    public bool HasBinaryForm { get; }

    /// <summary>
    /// Writes one row in text format: the data columns, then <c>_key</c>, <c>_hash</c>, <c>_sequence</c>, <c>_ordinal</c>,
    /// <c>_changed</c> (false, with empty data columns, for a record without JSON: unchanged since the published version)
    /// and <c>_deleted</c> (true, with empty data columns, for a deletion of the key).
    /// </summary>
    public void WriteText(ArrayBufferWriter<byte> output, ValidRecord record, int sequence, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(record);
        if (record.Json is not { } json)
        {
            for (var i = 0; i < columns.Count; i++)
            {
                Append(output, "\\N\t"u8);
            }
        }
        else
        {
            Locate(json);
            for (var i = 0; i < columns.Count; i++)
            {
                WriteValue(output, json, values[i], kinds[i] == ColumnKind.Json);
                Append(output, "\t"u8);
            }
        }

        WriteString(output, record.Key);
        Append(output, "\t"u8);
        WriteString(output, record.Hash);
        Append(output, "\t"u8);
        WriteNumber(output, sequence);
        Append(output, "\t"u8);
        WriteNumber(output, ordinal);
        Append(output, record.Deleted ? "\tt\tt\n"u8 : record.Json is null ? "\tf\tf\n"u8 : "\tt\tf\n"u8);
    }

    /// <summary>
    /// Writes the row <see cref="WriteText"/> writes, in binary format (<see cref="HasBinaryForm"/> must be true). Returns
    /// false, with part of the row written, when a value has no form <see cref="CopyBinaryValues"/> writes: the batch is
    /// then written in text.
    /// </summary>
    public bool TryWriteBinary(ArrayBufferWriter<byte> output, ValidRecord record, int sequence, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(record);
        var fields = output.GetSpan(2);
        BinaryPrimitives.WriteInt16BigEndian(fields, (short)(columns.Count + 6));
        output.Advance(2);
        if (record.Json is not { } json)
        {
            for (var i = 0; i < columns.Count; i++)
            {
                Append(output, BinaryNull);
            }
        }
        else
        {
            Locate(json);
            for (var i = 0; i < columns.Count; i++)
            {
                if (!TryWriteBinaryValue(output, json, values[i], kinds[i]))
                {
                    return false;
                }
            }
        }

        WriteBinaryString(output, record.Key);
        WriteBinaryString(output, record.Hash);
        WriteInt4(output, sequence);
        WriteInt4(output, ordinal);
        Append(output, record.Deleted ? [0, 0, 0, 1, 1, 0, 0, 0, 1, 1] : record.Json is null ? [0, 0, 0, 1, 0, 0, 0, 0, 1, 0] : [0, 0, 0, 1, 1, 0, 0, 0, 1, 0]);
        return true;
    }

    private bool TryWriteBinaryValue(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> json, (int Start, int End) token, ColumnKind kind)
    {
        if (token.End == 0 || json[token.Start] == (byte)'n')
        {
            Append(output, BinaryNull);
            return true;
        }

        var raw = json[token.Start..token.End];
        switch (kind)
        {
            case ColumnKind.Text:
                var start = output.WrittenCount;
                output.GetSpan(4);
                output.Advance(4);
                if (raw[0] == (byte)'"')
                {
                    WriteUnescaped(output, raw[1..^1], forCopy: false);
                }
                else
                {
                    Append(output, raw);
                }

                BinaryPrimitives.WriteInt32BigEndian(MemoryMarshal.AsMemory(output.WrittenMemory).Span[start..], output.WrittenCount - start - 4);
                return true;
            case ColumnKind.Json:
                var header = output.GetSpan(5);
                BinaryPrimitives.WriteInt32BigEndian(header, raw.Length + 1);
                header[4] = 1; // jsonb's binary version
                output.Advance(5);
                Append(output, raw);
                return true;
            case ColumnKind.Numeric:
                var span = output.GetSpan(4 + CopyBinaryValues.NumericBytes(raw.Length));
                var length = CopyBinaryValues.TryNumeric(raw, span[4..]);
                BinaryPrimitives.WriteInt32BigEndian(span, length);
                output.Advance(4 + length);
                return length > 0;
            case ColumnKind.Int8:
                return TryWriteFixed(output, 8, raw, CopyBinaryValues.TryInt8);
            case ColumnKind.Boolean:
                return TryWriteFixed(output, 1, raw, CopyBinaryValues.TryBoolean);
            default:
                // A date or a date-time: the text of a string, decoded (the canonical JSON writes the '+' of an offset as
                // \u002B).
                if (raw[0] != (byte)'"')
                {
                    return false;
                }

                decoded.ResetWrittenCount();
                WriteUnescaped(decoded, raw[1..^1], forCopy: false);
                return TryWriteFixed(output, kind == ColumnKind.Date ? 4 : 8, decoded.WrittenSpan, kind == ColumnKind.Date ? CopyBinaryValues.TryDate : CopyBinaryValues.TryTimestamptz);
        }
    }

    /// <summary>A value of <paramref name="size"/> bytes, with its length, written by <paramref name="write"/> from <paramref name="source"/>.</summary>
    private static bool TryWriteFixed(ArrayBufferWriter<byte> output, int size, ReadOnlySpan<byte> source, FixedWriter write)
    {
        var field = output.GetSpan(4 + size);
        BinaryPrimitives.WriteInt32BigEndian(field, size);
        output.Advance(4 + size);
        return write(source, field.Slice(4, size));
    }

    private delegate bool FixedWriter(ReadOnlySpan<byte> source, Span<byte> output);

    private static ColumnKind KindOf(string type) => type switch
    {
        "text" => ColumnKind.Text,
        "jsonb" => ColumnKind.Json,
        "bigint" => ColumnKind.Int8,
        "numeric" => ColumnKind.Numeric,
        "boolean" => ColumnKind.Boolean,
        "date" => ColumnKind.Date,
        "timestamp with time zone" => ColumnKind.Timestamptz,
        _ => ColumnKind.Other,
    };

    private enum ColumnKind
    {
        Other,
        Text,
        Json,
        Int8,
        Numeric,
        Boolean,
        Date,
        Timestamptz,
    }

    /// <summary>A .NET string as a binary text value: its length, then its UTF-8.</summary>
    private static void WriteBinaryString(ArrayBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(4 + Encoding.UTF8.GetMaxByteCount(text.Length));
        var length = Encoding.UTF8.GetBytes(text, span[4..]);
        BinaryPrimitives.WriteInt32BigEndian(span, length);
        output.Advance(4 + length);
    }

    /// <summary>An integer value of 4 bytes, with its length.</summary>
    private static void WriteInt4(ArrayBufferWriter<byte> output, int value)
    {
        var span = output.GetSpan(8);
        BinaryPrimitives.WriteInt32BigEndian(span, 4);
        BinaryPrimitives.WriteInt32BigEndian(span[4..], value);
        output.Advance(8);
    }

    /// <summary>
    /// Finds the value of each column in a record's JSON object (the last one of a property given twice). The JSON is the
    /// checker's (<see cref="ValidRecord.Json"/>), so it is valid and is not validated again: this only finds where each
    /// top-level value begins and ends, which a reader that validates every string took most of a record's time to do.
    /// </summary>
    private void Locate(ReadOnlySpan<byte> json)
    {
        Array.Clear(values);
        var at = SkipSpace(json, 0);
        if (at == json.Length || json[at] != (byte)'{')
        {
            throw new JsonException("a staged record's JSON is not an object");
        }

        at = SkipSpace(json, at + 1);
        var next = 0;
        while (json[at] != (byte)'}')
        {
            var nameEnd = StringEnd(json, at);
            var column = Find(json[(at + 1)..(nameEnd - 1)], ref next);
            var start = SkipSpace(json, SkipSpace(json, nameEnd) + 1); // past the colon
            var end = ValueEnd(json, start);
            if (column >= 0)
            {
                values[column] = (start, end);
            }

            at = SkipSpace(json, end);
            if (json[at] == (byte)',')
            {
                at = SkipSpace(json, at + 1);
            }
        }
    }

    /// <summary>The column of a property name (its JSON text between the quotes), or -1; the canonical JSON lists its properties in <see cref="sorted"/>'s order.</summary>
    private int Find(ReadOnlySpan<byte> name, ref int next)
    {
        for (var i = next; i < sorted.Length; i++)
        {
            if (name.SequenceEqual(sorted[i].Name))
            {
                next = i + 1;
                return sorted[i].Column;
            }
        }

        // Out of order (a property given twice), escaped, or a property without a column.
        decoded.ResetWrittenCount();
        WriteUnescaped(decoded, name, forCopy: false);
        if (positions.TryGetValue(Encoding.UTF8.GetString(decoded.WrittenSpan), out var position))
        {
            next = position + 1;
            return sorted[position].Column;
        }

        return -1;
    }

    private static int SkipSpace(ReadOnlySpan<byte> json, int at)
    {
        var skipped = json[at..].IndexOfAnyExcept(JsonSpace);
        return skipped < 0 ? json.Length : at + skipped;
    }

    /// <summary>Where the string that opens at <paramref name="at"/> ends (after its closing quote).</summary>
    private static int StringEnd(ReadOnlySpan<byte> json, int at)
    {
        for (at++; ; at += 2)
        {
            at += json[at..].IndexOfAny(StringStop);
            if (json[at] == (byte)'"')
            {
                return at + 1;
            }
        }
    }

    /// <summary>Where the value that begins at <paramref name="at"/> ends.</summary>
    private static int ValueEnd(ReadOnlySpan<byte> json, int at)
    {
        switch (json[at])
        {
            case (byte)'"':
                return StringEnd(json, at);
            case (byte)'{' or (byte)'[':
                for (var depth = 0; ; )
                {
                    at += json[at..].IndexOfAny(Structure);
                    switch (json[at])
                    {
                        case (byte)'"':
                            at = StringEnd(json, at);
                            break;
                        case (byte)'{' or (byte)'[':
                            depth++;
                            at++;
                            break;
                        default:
                            at++;
                            if (--depth == 0)
                            {
                                return at;
                            }

                            break;
                    }
                }

            default: // a number, true, false or null
                var length = json[at..].IndexOfAny(ScalarEnd);
                return length < 0 ? json.Length : at + length;
        }
    }

    private static void WriteValue(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> json, (int Start, int End) token, bool isJson)
    {
        if (token.End == 0 || json[token.Start] == (byte)'n')
        {
            Append(output, "\\N"u8);
            return;
        }

        var raw = json[token.Start..token.End];
        if (isJson || raw[0] != (byte)'"')
        {
            WriteEscaped(output, raw);
        }
        else
        {
            WriteUnescaped(output, raw[1..^1], forCopy: true);
        }
    }

    /// <summary>
    /// The text of a JSON string (<paramref name="content"/>: its JSON text between the quotes) as UTF-8, COPY-escaped when
    /// <paramref name="forCopy"/>. Text without a backslash is copied as it is: JSON allows no raw control character in a
    /// string, so it holds nothing COPY escapes. Throws <see cref="JsonException"/> on a UTF-16 surrogate without its pair,
    /// which no UTF-8 text can hold.
    /// </summary>
    private static void WriteUnescaped(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> content, bool forCopy)
    {
        for (var at = content.IndexOf((byte)'\\'); at >= 0; at = content.IndexOf((byte)'\\'))
        {
            Append(output, content[..at]);
            var length = 2;
            int character = content[at + 1] switch
            {
                (byte)'b' => '\b',
                (byte)'f' => '\f',
                (byte)'n' => '\n',
                (byte)'r' => '\r',
                (byte)'t' => '\t',
                (byte)'u' => Utf16(content, at, out length),
                var other => other, // ", \ or /
            };
            if (forCopy && character is '\\' or '\t' or '\n' or '\r')
            {
                WriteEscaped(output, [(byte)character]);
            }
            else
            {
                var span = output.GetSpan(4);
                output.Advance(new Rune(character).EncodeToUtf8(span));
            }

            content = content[(at + length)..];
        }

        Append(output, content);
    }

    /// <summary>The character of the <c>\uXXXX</c> escape at <paramref name="at"/>, or of the surrogate pair that begins there (<paramref name="length"/>: 6 or 12 bytes).</summary>
    private static int Utf16(ReadOnlySpan<byte> content, int at, out int length)
    {
        var unit = Hex(content.Slice(at + 2, 4));
        length = 6;
        if (!char.IsSurrogate(unit))
        {
            return unit;
        }

        if (char.IsHighSurrogate(unit) && content.Length >= at + 12 && content[at + 6] == (byte)'\\' && content[at + 7] == (byte)'u'
            && Hex(content.Slice(at + 8, 4)) is var low && char.IsLowSurrogate(low))
        {
            length = 12;
            return char.ConvertToUtf32(unit, low);
        }

        throw new JsonException($"a staged record's JSON has the UTF-16 surrogate \\u{(int)unit:X4} without its pair");
    }

    private static char Hex(ReadOnlySpan<byte> digits) =>
        Utf8Parser.TryParse(digits, out ushort unit, out var consumed, 'X') && consumed == 4
            ? (char)unit
            : throw new JsonException($"a staged record's JSON has a \\u escape without four hexadecimal digits: {Encoding.UTF8.GetString(digits)}");

    /// <summary>A value in COPY's text format: backslash, tab, newline and carriage return escaped.</summary>
    private static void WriteEscaped(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        for (var at = value.IndexOfAny(CopySpecial); at >= 0; at = value.IndexOfAny(CopySpecial))
        {
            Append(output, value[..at]);
            Append(output, value[at] switch
            {
                (byte)'\t' => "\\t"u8,
                (byte)'\n' => "\\n"u8,
                (byte)'\r' => "\\r"u8,
                _ => "\\\\"u8,
            });
            value = value[(at + 1)..];
        }

        Append(output, value);
    }

    /// <summary>A .NET string as UTF-8, COPY-escaped.</summary>
    private static void WriteString(ArrayBufferWriter<byte> output, string text)
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

    /// <summary>Bytes at the end of the row (on the concrete writer: no interface call per value).</summary>
    private static void Append(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    private static void WriteNumber(ArrayBufferWriter<byte> output, int value)
    {
        var span = output.GetSpan(11);
        Utf8Formatter.TryFormat(value, span, out var length);
        output.Advance(length);
    }
}
