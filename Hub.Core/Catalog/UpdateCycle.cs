namespace Hub.Core.Catalog;

/// <summary>How often an agency must update a dataset (regulation Art. 4.6).</summary>
public enum UpdateCycle
{
    Irregular,
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    HalfYearly,
    Yearly,
}
