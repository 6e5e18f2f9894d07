namespace Hub.Core.Catalog;

/// <summary>A REST/JSON endpoint of an agency, with its paging and where records sit in a page.</summary>
public sealed record RestSourceDefinition
{
    /// <summary>The endpoint URL, after <c>${env:NAME}</c> references were resolved.</summary>
    public required Uri Url { get; init; }

    /// <summary>A JSONPath subset (<c>$.a.b</c>, <c>$</c>) naming the array of records in a page.</summary>
    public string RecordPath { get; init; } = "$";

    public PagingDefinition Paging { get; init; } = new();

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}

public enum PagingStyle
{
    /// <summary>One request returns every record.</summary>
    None,

    /// <summary><c>offset</c> and <c>limit</c> query parameters.</summary>
    Offset,

    /// <summary>A 1-based page number and a page size.</summary>
    Page,
}

public sealed record PagingDefinition
{
    public PagingStyle Style { get; init; } = PagingStyle.None;
    public int PageSize { get; init; } = 500;
    public string OffsetParameter { get; init; } = "offset";
    public string LimitParameter { get; init; } = "limit";
    public string PageParameter { get; init; } = "page";
    public string PageSizeParameter { get; init; } = "page_size";

    /// <summary>Guard against endless paging: the run fails when more pages than this are needed.</summary>
    public int MaxPages { get; init; } = 10_000;
}
