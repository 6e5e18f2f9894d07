namespace Hub.Core.Catalog;

/// <summary>Security classification of a dataset. Secret data never enters the hub (regulation Art. 1.2).</summary>
public enum Classification
{
    Public,
    Internal,
    Secret,
}
