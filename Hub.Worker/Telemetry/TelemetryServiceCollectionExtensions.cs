using Hub.Connectors;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Hub.Worker.Telemetry;

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Traces (fetch, publish, consume, write; HTTP client and PostgreSQL) and metrics of the hub. Traces go to an
    /// OTLP collector when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; each host adds its metrics endpoint.
    /// </summary>
    public static IServiceCollection AddHubTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName, Action<MeterProviderBuilder>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var otlp = !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(tracing =>
            {
                tracing.AddSource(HubTelemetry.Name, ConnectorTelemetry.Name, "MassTransit").AddHttpClientInstrumentation().AddNpgsql();
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }
            })
            .WithMetrics(meters =>
            {
                meters.AddMeter(HubTelemetry.Name, "MassTransit").AddHttpClientInstrumentation();
                metrics?.Invoke(meters);
            });
        return services;
    }
}
