using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DemoAgency;

/// <summary>Source-generated JSON metadata for every type the agency reads or writes with JsonSerializer.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DvhcvnFile))]
[JsonSerializable(typeof(FaultSpec))]
[JsonSerializable(typeof(RegisteredFault))]
[JsonSerializable(typeof(RegisteredFault[]))]
[JsonSerializable(typeof(ExpectedCounts))]
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class AgencyJsonContext : JsonSerializerContext;

/// <summary>A JSON error body: <c>{"error": "..."}</c>.</summary>
internal sealed record ErrorBody(string Error);

internal static class AgencyJson
{
    /// <summary>Writes Vietnamese text as plain UTF-8 rather than \uXXXX escapes.</summary>
    public static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = Encoder };

    /// <summary>The source-generated metadata bound to web defaults and the relaxed encoder.</summary>
    public static readonly AgencyJsonContext Context = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = Encoder });

    public const string ContentType = "application/json; charset=utf-8";

    public static void Configure(JsonSerializerOptions options)
    {
        options.Encoder = Encoder;
        options.TypeInfoResolverChain.Insert(0, Context);
    }

    public static IResult Error(int status, string message) =>
        Results.Json(new ErrorBody(message), Context.ErrorBody, ContentType, status);
}
