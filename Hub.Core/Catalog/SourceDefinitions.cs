namespace Hub.Core.Catalog;

/// <summary>
/// Where a dataset's records come from: one subtype per <c>kind</c> of <c>connectors.d/</c> source. Every
/// kind is fetched over HTTP with the same timeout, authentication and per-agency resilience.
/// </summary>
public abstract record SourceDefinition
{
    /// <summary>The endpoint URL, after <c>${env:NAME}</c> references were resolved.</summary>
    public required Uri Url { get; init; }

    /// <summary>Time allowed for one page, retries included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    public AuthDefinition Auth { get; init; } = AuthDefinition.None;

    /// <summary>The agency that serves the source: its requests share one resilience pipeline and rate limit.</summary>
    public AgencyEndpoint Agency { get; init; } = AgencyEndpoint.Default;

    /// <summary>The <c>kind</c> written in the file: <c>rest</c>, <c>odata</c>, <c>soap</c>, <c>csv</c>.</summary>
    public abstract string Kind { get; }
}

/// <summary>An agency as its HTTP requests see it: the code that keys its pipeline and its rate limit.</summary>
public sealed record AgencyEndpoint(string Code, RateLimitDefinition RateLimit)
{
    public static AgencyEndpoint Default { get; } = new("default", RateLimitDefinition.Unlimited);
}

/// <summary>How hard the hub may call one agency (<c>agency.rate_limit</c>); null means no limit.</summary>
public sealed record RateLimitDefinition(double? RequestsPerSecond, int? ConcurrentRequests)
{
    public static RateLimitDefinition Unlimited { get; } = new(null, null);
}

/// <summary>A REST/JSON endpoint of an agency, with its paging and where records sit in a page.</summary>
public sealed record RestSourceDefinition : SourceDefinition
{
    public override string Kind => "rest";

    /// <summary>A JSONPath subset (<c>$.a.b</c>, <c>$</c>) naming the array of records in a page.</summary>
    public string RecordPath { get; init; } = "$";

    public PagingDefinition Paging { get; init; } = new();
}

/// <summary>An OData v4 entity set: records in <c>value</c>, server paging by <c>@odata.nextLink</c>.</summary>
public sealed record ODataSourceDefinition : SourceDefinition
{
    public override string Kind => "odata";

    /// <summary><c>$filter</c> sent with the first request, or null.</summary>
    public string? Filter { get; init; }

    /// <summary><c>$select</c> sent with the first request, or null.</summary>
    public string? Select { get; init; }

    /// <summary>When set, client paging with <c>$top</c>/<c>$skip</c> while the service gives no next link.</summary>
    public int? PageSize { get; init; }

    public int MaxPages { get; init; } = 10_000;
}

/// <summary>A SOAP 1.1 operation (e.g. an ASP.NET ASMX service returning a DataSet diffgram).</summary>
public sealed record SoapSourceDefinition : SourceDefinition
{
    public override string Kind => "soap";

    /// <summary>The request envelope; <c>{{Name}}</c> is replaced by the XML-escaped parameter <c>Name</c>.</summary>
    public required string Envelope { get; init; }

    /// <summary>The <c>SOAPAction</c> header, e.g. <c>http://tempuri.org/DanhMucTinh</c>.</summary>
    public string? SoapAction { get; init; }

    public IReadOnlyList<SoapParameter> Parameters { get; init; } = [];

    /// <summary>XPath selecting one element per record; its child elements become the fields.</summary>
    public required string RecordXPath { get; init; }

    /// <summary>Prefixes usable in <see cref="RecordXPath"/>, besides the built-in soap, diffgr and msdata.</summary>
    public IReadOnlyDictionary<string, string> Namespaces { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A parameter of a SOAP request: a fixed <paramref name="Value"/>, or a date (<paramref name="Date"/> is
/// <c>today</c> in Vietnam time, or <c>yyyy-MM-dd</c>) plus <paramref name="OffsetDays"/>, written with <paramref name="Format"/>.
/// </summary>
public sealed record SoapParameter(string Name, string? Value, string? Date = null, string Format = "dd/MM/yyyy", int OffsetDays = 0);

/// <summary>A CSV file over HTTP (RFC 4180): a header row names the fields, every value is text.</summary>
public sealed record CsvSourceDefinition : SourceDefinition
{
    public override string Kind => "csv";

    public char Delimiter { get; init; } = ',';

    /// <summary>The declared charset (<c>utf-8</c>, <c>utf-16</c>, <c>windows-1258</c>, ...); a byte order mark wins.</summary>
    public string Encoding { get; init; } = "utf-8";

    /// <summary>Rows per page: the file is read as it arrives and cut into pages of this many rows.</summary>
    public int PageRows { get; init; } = 5000;
}

public enum PagingStyle
{
    /// <summary>One request returns every record.</summary>
    None,

    /// <summary><c>offset</c> and <c>limit</c> query parameters.</summary>
    Offset,

    /// <summary>A 1-based page number and a page size.</summary>
    Page,

    /// <summary>A token read from the body (<c>cursor_path</c>) sent back in a query parameter (<c>cursor_param</c>).</summary>
    Cursor,

    /// <summary>The URL of the next page read from the body (<c>next_path</c>).</summary>
    NextUrl,

    /// <summary>The <c>Link</c> response header's <c>rel="next"</c> URL.</summary>
    LinkHeader,
}

public sealed record PagingDefinition
{
    public PagingStyle Style { get; init; } = PagingStyle.None;
    public int PageSize { get; init; } = 500;
    public string OffsetParameter { get; init; } = "offset";
    public string LimitParameter { get; init; } = "limit";
    public string PageParameter { get; init; } = "page";
    public string PageSizeParameter { get; init; } = "page_size";

    /// <summary>Cursor style: JSONPath subset of the token for the next page in the body.</summary>
    public string? CursorPath { get; init; }

    /// <summary>Cursor style: the query parameter that carries the token.</summary>
    public string CursorParameter { get; init; } = "cursor";

    /// <summary>Next-URL style: JSONPath subset of the next page's URL in the body.</summary>
    public string? NextPath { get; init; }

    /// <summary>JSONPath subset of the total record count; paging stops once that many were fetched.</summary>
    public string? TotalPath { get; init; }

    /// <summary>Guard against endless paging: the run fails when more pages than this are needed.</summary>
    public int MaxPages { get; init; } = 10_000;
}
