using System.Globalization;
using System.Xml.XPath;
using Hub.Connectors.Http;
using Hub.Core.Catalog;
using YamlDotNet.RepresentationModel;

namespace Hub.Connectors.Configuration;

/// <summary>The <c>source</c>, <c>auth</c>, <c>agency.rate_limit</c> and <c>mapping</c> sections of format v1.</summary>
public static partial class CatalogLoader
{
    /// <summary>Placeholder of the kind readers; <see cref="ReadSource"/> sets the resolved URL (or drops the source).</summary>
    private static readonly Uri UnresolvedUrl = new("http://unresolved.invalid/");

    private static readonly string[] CommonSourceKeys = ["kind", "url", "timeout", "auth"];

    private static readonly Dictionary<string, string[]> SourceKeys = new(StringComparer.Ordinal)
    {
        ["rest"] = ["record_path", "paging"],
        ["odata"] = ["filter", "select", "page_size", "max_pages"],
        ["soap"] = ["soap_action", "envelope", "parameters", "record_xpath", "namespaces"],
        ["csv"] = ["delimiter", "encoding", "page_rows"],
    };

    private static readonly Dictionary<string, FieldType> FieldTypes = new(StringComparer.Ordinal)
    {
        ["keep"] = FieldType.Keep, ["string"] = FieldType.Text, ["integer"] = FieldType.WholeNumber, ["number"] = FieldType.Number,
        ["boolean"] = FieldType.TrueFalse, ["date"] = FieldType.Date, ["date_time"] = FieldType.DateTime,
    };

    private static SourceDefinition? ReadSource(YamlNodeReader reader, YamlMappingNode node, AgencyEndpoint agency, Func<string, string?> environment)
    {
        const string where = "'source'";
        var kind = reader.String(node, "kind", required: true, where, "rest");
        if (kind is null)
        {
            return null;
        }

        if (!SourceKeys.TryGetValue(kind, out var specific))
        {
            reader.Error(YamlNodeReader.Get(node, "kind"), $"source kind '{kind}' is not supported", $"use one of: {string.Join(", ", SourceKeys.Keys)}");
            return null;
        }

        reader.RejectUnknownKeys(node, $"a '{kind}' source", [.. CommonSourceKeys, .. specific]);
        var url = ReadUrl(reader, node, environment);
        var auth = ReadAuth(reader, node, environment);
        var timeout = reader.Duration(node, "timeout") ?? TimeSpan.FromSeconds(30);
        SourceDefinition? source = kind switch
        {
            "rest" => ReadRest(reader, node),
            "odata" => ReadOData(reader, node),
            "soap" => ReadSoap(reader, node),
            _ => ReadCsv(reader, node),
        };
        return url is null || auth is null || source is null ? null : source with { Url = url, Timeout = timeout, Auth = auth, Agency = agency };
    }

    private static Uri? ReadUrl(YamlNodeReader reader, YamlMappingNode node, Func<string, string?> environment)
    {
        var rawUrl = reader.String(node, "url", required: true, "'source'", "https://api.agency.gov.vn/v1/items");
        if (rawUrl is null)
        {
            return null;
        }

        var resolved = Resolve(reader, node, "url", rawUrl, environment);
        if (resolved is null)
        {
            return null;
        }

        if (!Uri.TryCreate(resolved, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            reader.Error(YamlNodeReader.Get(node, "url"), $"'url' resolves to '{resolved}', which is not an absolute http(s) URL", "write the full address, e.g. https://api.agency.gov.vn/v1/items");
            return null;
        }

        return url;
    }

    private static string? Resolve(YamlNodeReader reader, YamlMappingNode node, string key, string raw, Func<string, string?> environment)
    {
        var resolved = EnvironmentReferences.Resolve(raw, environment, out var missing);
        if (missing.Count == 0)
        {
            return resolved;
        }

        reader.Error(YamlNodeReader.Get(node, key), $"reference(s) {string.Join(", ", missing)} used in '{key}' cannot be resolved: environment variables not set or files not readable", "set them, give a default as ${env:NAME:-value}, or fix the ${file:/path}");
        return null;
    }

    private static RestSourceDefinition ReadRest(YamlNodeReader reader, YamlMappingNode node)
    {
        var recordPath = JsonPathOption(reader, node, "record_path") ?? "$";
        var paging = new PagingDefinition();
        var pagingNode = reader.Mapping(node, "paging", required: false, "'source'");
        if (pagingNode is not null)
        {
            const string where = "'paging'";
            reader.RejectUnknownKeys(pagingNode, where, "style", "page_size", "offset_param", "limit_param", "page_param", "page_size_param", "cursor_path", "cursor_param", "next_path", "total_path", "max_pages");
            paging = new PagingDefinition
            {
                Style = reader.Enum<PagingStyle>(pagingNode, "style", required: true, where) ?? PagingStyle.None,
                PageSize = reader.Integer(pagingNode, "page_size", 1, 100_000) ?? paging.PageSize,
                OffsetParameter = reader.String(pagingNode, "offset_param", required: false, where) ?? paging.OffsetParameter,
                LimitParameter = reader.String(pagingNode, "limit_param", required: false, where) ?? paging.LimitParameter,
                PageParameter = reader.String(pagingNode, "page_param", required: false, where) ?? paging.PageParameter,
                PageSizeParameter = reader.String(pagingNode, "page_size_param", required: false, where) ?? paging.PageSizeParameter,
                CursorPath = JsonPathOption(reader, pagingNode, "cursor_path"),
                CursorParameter = reader.String(pagingNode, "cursor_param", required: false, where) ?? paging.CursorParameter,
                NextPath = JsonPathOption(reader, pagingNode, "next_path"),
                TotalPath = JsonPathOption(reader, pagingNode, "total_path"),
                MaxPages = reader.Integer(pagingNode, "max_pages", 1, 10_000_000) ?? paging.MaxPages,
            };
            if (paging.Style == PagingStyle.Cursor && paging.CursorPath is null)
            {
                reader.Error(YamlNodeReader.Get(pagingNode, "style"), "paging style 'cursor' needs 'cursor_path', where the next page's token is in the body", "add e.g. 'cursor_path: $.meta.next_cursor' (and 'cursor_param' if the parameter is not 'cursor')");
            }

            if (paging.Style == PagingStyle.NextUrl && paging.NextPath is null)
            {
                reader.Error(YamlNodeReader.Get(pagingNode, "style"), "paging style 'next_url' needs 'next_path', where the next page's URL is in the body", "add e.g. 'next_path: $.links.next'");
            }
        }

        return new RestSourceDefinition { Url = UnresolvedUrl, RecordPath = recordPath, Paging = paging };
    }

    private static string? JsonPathOption(YamlNodeReader reader, YamlMappingNode node, string key)
    {
        var path = reader.String(node, key, required: false, "");
        if (path is not null && !JsonRecordPath.TryParse(path, out _))
        {
            reader.Error(YamlNodeReader.Get(node, key), $"{key} '{path}' is not supported", "write '$' for the top level or '$.data' / '$.result.items' for a nested value");
            return null;
        }

        return path;
    }

    private static ODataSourceDefinition ReadOData(YamlNodeReader reader, YamlMappingNode node) => new()
    {
        Url = UnresolvedUrl,
        Filter = reader.String(node, "filter", required: false, "'source'"),
        Select = reader.String(node, "select", required: false, "'source'"),
        PageSize = reader.Integer(node, "page_size", 1, 100_000),
        MaxPages = reader.Integer(node, "max_pages", 1, 10_000_000) ?? 10_000,
    };

    private static SoapSourceDefinition? ReadSoap(YamlNodeReader reader, YamlMappingNode node)
    {
        const string where = "a 'soap' source";
        var envelope = reader.String(node, "envelope", required: true, where, "| <soap:Envelope ...>");
        var xpath = reader.String(node, "record_xpath", required: true, where, "//diffgr:diffgram/NewDataSet/TABLE");
        if (xpath is not null)
        {
            try
            {
                _ = XPathExpression.Compile(xpath);
            }
            catch (XPathException e)
            {
                reader.Error(YamlNodeReader.Get(node, "record_xpath"), $"record_xpath '{xpath}' is not a valid XPath: {e.Message}", "e.g. //diffgr:diffgram/NewDataSet/TABLE");
                xpath = null;
            }
        }

        var namespaces = new Dictionary<string, string>(StringComparer.Ordinal);
        if (reader.Mapping(node, "namespaces", required: false, where) is { } namespacesNode)
        {
            foreach (var (key, value) in namespacesNode.Children)
            {
                if (key is YamlScalarNode { Value: { Length: > 0 } prefix } && value is YamlScalarNode { Value: { Length: > 0 } uri })
                {
                    namespaces[prefix] = uri;
                }
                else
                {
                    reader.Error(value, "each entry of 'namespaces' is 'prefix: namespace-uri'", "e.g. 'tns: http://tempuri.org/'");
                }
            }
        }

        var parameters = new List<SoapParameter>();
        var parameterNodes = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        if (reader.Mapping(node, "parameters", required: false, where) is { } parametersNode)
        {
            foreach (var (key, value) in parametersNode.Children)
            {
                var name = (key as YamlScalarNode)?.Value ?? "";
                parameterNodes[name] = key;
                switch (value)
                {
                    case YamlScalarNode scalar:
                        parameters.Add(new SoapParameter(name, scalar.Value ?? ""));
                        break;
                    case YamlMappingNode dateNode:
                        reader.RejectUnknownKeys(dateNode, $"parameter '{name}'", "date", "format", "offset_days");
                        var date = reader.String(dateNode, "date", required: true, $"parameter '{name}'", "today");
                        if (date is not null && date != "today" && !DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                        {
                            reader.Error(YamlNodeReader.Get(dateNode, "date"), $"'date' is '{date}', which is neither 'today' nor a yyyy-MM-dd date", "write 'date: today' or e.g. 'date: 2025-03-01'");
                        }

                        parameters.Add(new SoapParameter(name, null, date ?? "today", reader.String(dateNode, "format", required: false, "") ?? "dd/MM/yyyy",
                            reader.Integer(dateNode, "offset_days", -36_500, 36_500) ?? 0));
                        break;
                    default:
                        reader.Error(value, $"parameter '{name}' must be a value or a date ('{{ date: today, format: dd/MM/yyyy }}')", "e.g. 'DenNgay: { date: today, format: dd/MM/yyyy }' or 'MaTinh: \"58\"'");
                        break;
                }
            }
        }

        if (envelope is not null)
        {
            foreach (var parameter in parameters.Where(p => !envelope.Contains("{{" + p.Name + "}}", StringComparison.Ordinal)))
            {
                reader.Error(parameterNodes[parameter.Name], $"parameter '{parameter.Name}' is not used in 'envelope'", $"write {{{{{parameter.Name}}}}} where its value goes in the envelope");
            }
        }

        return envelope is null || xpath is null
            ? null
            : new SoapSourceDefinition
            {
                Url = UnresolvedUrl,
                Envelope = envelope,
                SoapAction = reader.String(node, "soap_action", required: false, where),
                RecordXPath = xpath,
                Namespaces = namespaces,
                Parameters = parameters,
            };
    }

    private static CsvSourceDefinition? ReadCsv(YamlNodeReader reader, YamlMappingNode node)
    {
        var delimiterText = reader.String(node, "delimiter", required: false, "a 'csv' source") ?? ",";
        var delimiter = delimiterText switch { "tab" or "\\t" => '\t', { Length: 1 } one => one[0], _ => '\0' };
        if (delimiter is '\0' or '"' or '\r' or '\n')
        {
            reader.Error(YamlNodeReader.Get(node, "delimiter"), $"delimiter '{delimiterText}' must be one character other than a quote or a line break", "write e.g. 'delimiter: \";\"' or 'delimiter: tab'");
            return null;
        }

        var encoding = reader.String(node, "encoding", required: false, "a 'csv' source") ?? "utf-8";
        if (CsvSource.FindEncoding(encoding) is null)
        {
            reader.Error(YamlNodeReader.Get(node, "encoding"), $"encoding '{encoding}' is not known", "use e.g. utf-8, utf-16 or windows-1258");
            return null;
        }

        var csv = new CsvSourceDefinition { Url = UnresolvedUrl, Delimiter = delimiter, Encoding = encoding };
        return csv with { PageRows = reader.Integer(node, "page_rows", 1, 100_000) ?? csv.PageRows };
    }

    private static AuthDefinition? ReadAuth(YamlNodeReader reader, YamlMappingNode source, Func<string, string?> environment)
    {
        var node = reader.Mapping(source, "auth", required: false, "'source'");
        if (node is null)
        {
            return YamlNodeReader.Get(source, "auth") is null ? AuthDefinition.None : null;
        }

        const string where = "'auth'";
        var type = reader.String(node, "type", required: true, where, "bearer");
        string[] keys = type switch
        {
            "api_key" => ["header", "query_param", "key"],
            "bearer" => ["token"],
            "basic" => ["username", "password"],
            "oauth2" => ["token_url", "client_id", "client_secret", "scope"],
            _ => [],
        };
        if (type is null)
        {
            return null;
        }

        if (keys.Length == 0)
        {
            reader.Error(YamlNodeReader.Get(node, "type"), $"auth type '{type}' is not supported", "use one of: api_key, bearer, basic, oauth2");
            return null;
        }

        reader.RejectUnknownKeys(node, $"'auth' of type {type}", ["type", .. keys]);
        var before = reader.ErrorCount;
        var auth = type switch
        {
            "api_key" => new AuthDefinition
            {
                Kind = AuthKind.ApiKey,
                Header = reader.String(node, "header", required: false, where),
                QueryParameter = reader.String(node, "query_param", required: false, where),
                Token = SecretValue(reader, node, "key", environment),
            },
            "bearer" => new AuthDefinition { Kind = AuthKind.Bearer, Token = SecretValue(reader, node, "token", environment) },
            "basic" => new AuthDefinition
            {
                Kind = AuthKind.Basic,
                Username = reader.String(node, "username", required: true, where, "${env:AGENCY_USER}") is { } user ? Resolve(reader, node, "username", user, environment) : null,
                Password = SecretValue(reader, node, "password", environment),
            },
            _ => new AuthDefinition
            {
                Kind = AuthKind.OAuth2,
                TokenUrl = reader.String(node, "token_url", required: true, where, "https://id.agency.gov.vn/connect/token") is { } tokenUrl && Resolve(reader, node, "token_url", tokenUrl, environment) is { } resolved
                    ? Uri.TryCreate(resolved, UriKind.Absolute, out var parsed) ? parsed : Invalid(reader, node, "token_url")
                    : null,
                ClientId = reader.String(node, "client_id", required: true, where, "hub") is { } id ? Resolve(reader, node, "client_id", id, environment) : null,
                ClientSecret = SecretValue(reader, node, "client_secret", environment),
                Scope = reader.String(node, "scope", required: false, where),
            },
        };
        return reader.ErrorCount > before ? null : auth;
    }

    private static Uri? Invalid(YamlNodeReader reader, YamlMappingNode node, string key)
    {
        reader.Error(YamlNodeReader.Get(node, key), $"'{key}' is not an absolute URL", "write the full address, e.g. https://id.agency.gov.vn/connect/token");
        return null;
    }

    /// <summary>A secret: it must be a reference (<c>${env:NAME}</c> or <c>${file:/path}</c>), never the value itself.</summary>
    private static Secret? SecretValue(YamlNodeReader reader, YamlMappingNode node, string key, Func<string, string?> environment)
    {
        var raw = reader.String(node, key, required: true, "'auth'", "${env:AGENCY_SECRET}");
        if (raw is null)
        {
            return null;
        }

        if (!EnvironmentReferences.HasReference(raw))
        {
            reader.Error(YamlNodeReader.Get(node, key), $"'{key}' is written in the file; secrets must stay out of connectors.d", $"write '{key}: ${{env:NAME}}' or '{key}: ${{file:/run/secrets/name}}' and put the value there");
            return null;
        }

        return Resolve(reader, node, key, raw, environment) is { } value ? new Secret(value) : null;
    }

    private static RateLimitDefinition ReadRateLimit(YamlNodeReader reader, YamlMappingNode agency)
    {
        var node = reader.Mapping(agency, "rate_limit", required: false, "'agency'");
        if (node is null)
        {
            return RateLimitDefinition.Unlimited;
        }

        reader.RejectUnknownKeys(node, "'rate_limit'", "requests_per_second", "concurrent_requests");
        double? perSecond = null;
        if (reader.String(node, "requests_per_second", required: false, "") is { } text)
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is > 0 and <= 10_000)
            {
                perSecond = value;
            }
            else
            {
                reader.Error(YamlNodeReader.Get(node, "requests_per_second"), $"'requests_per_second' must be a number above 0 and at most 10000, not '{text}'", "e.g. 'requests_per_second: 5' or '0.5' for one request every 2 s");
            }
        }

        return new RateLimitDefinition(perSecond, reader.Integer(node, "concurrent_requests", 1, 1000));
    }

    /// <summary>The dataset's mapping; each target must be a property of the schema (when it loaded).</summary>
    private static MappingDefinition ReadMapping(YamlNodeReader reader, YamlMappingNode dataset, DatasetSchema? schema)
    {
        var node = reader.Mapping(dataset, "mapping", required: false, "a dataset");
        if (node is null)
        {
            return MappingDefinition.Identity;
        }

        reader.RejectUnknownKeys(node, "'mapping'", "fields", "keep_unmapped");
        var keep = reader.String(node, "keep_unmapped", required: false, "") switch
        {
            null or "false" => false,
            "true" => true,
            var other => Bad(reader, YamlNodeReader.Get(node, "keep_unmapped"), $"'keep_unmapped' must be true or false, not '{other}'"),
        };
        var fields = new List<FieldMapping>();
        foreach (var (key, value) in reader.Mapping(node, "fields", required: true, "'mapping'")?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>())
        {
            var target = (key as YamlScalarNode)?.Value ?? "";
            if (schema is not null && schema.Columns.All(c => c.Name != target))
            {
                reader.Error(key, $"mapping field '{target}' is not a property of the schema {schema.Path}", $"map to properties of the schema: {string.Join(", ", schema.Columns.Select(c => c.Name))}");
            }

            switch (value)
            {
                case YamlScalarNode { Value: { Length: > 0 } from }:
                    fields.Add(new FieldMapping(target, from, null, FieldType.Keep, []));
                    break;
                case YamlMappingNode spec:
                    var where = $"field '{target}'";
                    reader.RejectUnknownKeys(spec, where, "from", "value", "type", "format");
                    var source = reader.String(spec, "from", required: false, where);
                    var constant = reader.String(spec, "value", required: false, where);
                    if ((source is null) == (constant is null))
                    {
                        reader.Error(spec, $"{where} needs exactly one of 'from' (a source field) and 'value' (a constant)", "e.g. '{ from: NgayHieuLuc, type: date, format: dd/MM/yyyy }' or '{ value: SNV }'");
                    }

                    var typeName = reader.String(spec, "type", required: false, where) ?? "keep";
                    if (!FieldTypes.TryGetValue(typeName, out var type))
                    {
                        reader.Error(YamlNodeReader.Get(spec, "type"), $"'type' is '{typeName}', which is not one of: {string.Join(", ", FieldTypes.Keys)}", $"use one of: {string.Join(", ", FieldTypes.Keys)}");
                    }

                    var formats = YamlNodeReader.Get(spec, "format") is null ? [] : reader.StringList(spec, "format", required: false, where, "dd/MM/yyyy") ?? [];
                    fields.Add(new FieldMapping(target, source, constant, type, formats));
                    break;
                default:
                    reader.Error(value, $"field '{target}' must be a source field name or a mapping with 'from' or 'value'", "e.g. 'ma_tinh: MaTinh' or 'ngay: { from: Ngay, type: date, format: dd/MM/yyyy }'");
                    break;
            }
        }

        return new MappingDefinition(fields, keep);
    }

    private static bool Bad(YamlNodeReader reader, YamlNode? node, string message)
    {
        reader.Error(node, message);
        return false;
    }
}
