using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.XPath;
using Hub.Core.Catalog;
using Hub.Core.Time;

namespace Hub.Connectors.Http;

/// <summary>
/// Calls a SOAP 1.1 operation once: the envelope template with its parameters filled in, the
/// <c>SOAPAction</c> header; the records are the elements the XPath selects (for an ASMX DataSet,
/// <c>//diffgr:diffgram/NewDataSet/TABLE</c>), each child element a text field.
/// </summary>
public sealed class SoapXmlSource(AgencyHttp http, TimeProvider time) : IRecordSource
{
    /// <summary>Prefixes every record XPath may use without declaring them.</summary>
    public static readonly IReadOnlyDictionary<string, string> BuiltInNamespaces = new Dictionary<string, string>
    {
        ["soap"] = "http://schemas.xmlsoap.org/soap/envelope/",
        ["diffgr"] = "urn:schemas-microsoft-com:xml-diffgram-v1",
        ["msdata"] = "urn:schemas-microsoft-com:xml-msdata",
        ["xs"] = "http://www.w3.org/2001/XMLSchema",
    };

    public string Kind => "soap";

    public async IAsyncEnumerable<FetchedPage> FetchAsync(SourceDefinition definition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var source = (SoapSourceDefinition)definition;
        var envelope = Envelope(source, time.GetUtcNow());
        var response = await http.SendAsync(source, HttpMethod.Post, source.Url,
            () => new StringContent(envelope, Encoding.UTF8, "text/xml"),
            r =>
            {
                if (source.SoapAction is not null)
                {
                    r.Headers.TryAddWithoutValidation("SOAPAction", $"\"{source.SoapAction}\"");
                }
            },
            cancellationToken);
        yield return FetchedPage.FromObjects(response, Records(source, response));
    }

    /// <summary>The request body: <c>{{Name}}</c> replaced by each parameter's XML-escaped value.</summary>
    public static string Envelope(SoapSourceDefinition source, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(source);
        var envelope = source.Envelope;
        foreach (var parameter in source.Parameters)
        {
            envelope = envelope.Replace("{{" + parameter.Name + "}}", SecurityElement.Escape(Value(parameter, now)), StringComparison.Ordinal);
        }

        return envelope;
    }

    private static string Value(SoapParameter parameter, DateTimeOffset now)
    {
        if (parameter.Date is null)
        {
            return parameter.Value ?? string.Empty;
        }

        var date = parameter.Date == "today"
            ? DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, VietnamTime.Zone).DateTime)
            : DateOnly.ParseExact(parameter.Date, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        return date.AddDays(parameter.OffsetDays).ToString(parameter.Format, CultureInfo.InvariantCulture);
    }

    private static JsonArray Records(SoapSourceDefinition source, AgencyResponse response)
    {
        if (response.IsMediaType("html"))
        {
            throw new AgencyResponseException($"{response.Url} did not return XML ({response.MediaType}): probably an error page");
        }

        var document = new XmlDocument { XmlResolver = null };
        try
        {
            using var stream = new MemoryStream(response.Payload);
            using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            document.Load(reader);
        }
        catch (XmlException e)
        {
            throw new AgencyResponseException($"{response.Url} did not return valid XML ({response.MediaType ?? "no content type"}): {e.Message}", e);
        }

        var namespaces = new XmlNamespaceManager(document.NameTable);
        foreach (var (prefix, uri) in BuiltInNamespaces.Concat(source.Namespaces))
        {
            namespaces.AddNamespace(prefix, uri);
        }

        if (document.SelectSingleNode("/soap:Envelope/soap:Body/soap:Fault", namespaces) is { } fault)
        {
            throw new AgencyResponseException($"{response.Url} answered with a SOAP fault: {fault.SelectSingleNode("faultstring")?.InnerText ?? fault.InnerText}");
        }

        XmlNodeList? nodes;
        try
        {
            nodes = document.SelectNodes(source.RecordXPath, namespaces);
        }
        catch (XPathException e)
        {
            throw new AgencyResponseException($"record_xpath '{source.RecordXPath}' cannot be evaluated: {e.Message}", e);
        }

        var records = new JsonArray();
        foreach (var node in nodes?.OfType<XmlElement>() ?? [])
        {
            var record = new JsonObject();
            foreach (var field in node.ChildNodes.OfType<XmlElement>())
            {
                record[field.LocalName] = field.InnerText;
            }

            records.Add(record);
        }

        return records;
    }
}
