using Hub.Core.Catalog;

namespace Hub.Connectors.Http;

/// <summary>Asks a source only for the records since a stored cursor (see <see cref="IncrementalDefinition"/>).</summary>
public static class IncrementalQuery
{
    /// <summary>
    /// The source with the cursor parameter added to its URL. For an OData source and <c>param: $filter</c>, the
    /// condition is and-ed with the source's own <c>filter</c>.
    /// </summary>
    public static SourceDefinition Apply(SourceDefinition source, IncrementalDefinition incremental, string cursor)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(incremental);
        var value = incremental.ParameterValue(cursor);
        if (source is ODataSourceDefinition odata && incremental.Param == "$filter")
        {
            return odata with { Filter = odata.Filter is null ? value : $"({odata.Filter}) and ({value})" };
        }

        return source with { Url = AgencyHttp.WithQuery(source.Url, incremental.Param, value) };
    }
}
