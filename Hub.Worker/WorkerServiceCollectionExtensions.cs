using Hub.Connectors;
using Hub.Worker.Catalog;
using Hub.Worker.Freshness;
using Hub.Worker.Messaging;
using Hub.Worker.Scheduling;
using Hub.Worker.Store;
using Hub.Worker.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Hub.Worker;

public static class WorkerServiceCollectionExtensions
{
    /// <summary>The catalogue loaded from <c>connectors.d/</c> (see <see cref="HubCatalog"/>), reloaded when a file changes.</summary>
    public static IServiceCollection AddHubCatalog(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<HubCatalog>();
        services.AddHostedService<CatalogReloader>();
        return services;
    }

    /// <summary>Everything the worker runs: store, connectors, catalogue, writer consumers, scheduler, freshness monitor, telemetry.</summary>
    public static IServiceCollection AddHubWorker(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var prometheusPort = configuration.GetValue<int?>("Telemetry:PrometheusPort");
        return services
            .AddHubStore(configuration)
            .AddConnectors(configuration)
            .AddHubCatalog()
            .AddHubMessaging(configuration, withWriter: true)
            .AddConnectorScheduling(configuration)
            .AddFreshness(configuration, withMonitor: true)
            .AddHubTelemetry(configuration, "hub-worker", metrics =>
            {
                if (prometheusPort is { } port)
                {
                    metrics.AddPrometheusHttpListener(listener =>
                    {
                        listener.Host = "127.0.0.1";
                        listener.Port = port;
                    });
                }
            });
    }
}
