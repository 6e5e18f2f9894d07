using System.Diagnostics;

namespace Hub.Connectors;

/// <summary>Traces of the connectors (source "Hub.Connectors"): one span per request to an agency, retries and body included.</summary>
public static class ConnectorTelemetry
{
    public const string Name = "Hub.Connectors";

    public static readonly ActivitySource Source = new(Name);
}
