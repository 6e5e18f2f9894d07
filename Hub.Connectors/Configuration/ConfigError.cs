namespace Hub.Connectors.Configuration;

/// <summary>A problem in a <c>connectors.d/</c> file: where it is, what is wrong, and how to fix it.</summary>
public sealed record ConfigError(string File, int Line, int Column, string Message, string? Fix = null)
{
    /// <summary>The dataset this error refuses because the file classifies it secret (regulation Art. 1.2), if that is the error.</summary>
    public string? SecretDatasetId { get; init; }

    /// <summary><c>file:line:column: message (fix: ...)</c>, the format editors and CI understand.</summary>
    public override string ToString() =>
        Fix is null ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Message} (fix: {Fix})";
}
