using System.Text.Encodings.Web;
using Hub.Api.Access;
using Hub.Api.Connectors;
using Hub.Api.Datasets;
using Hub.Api.Freshness;
using Hub.Api.Health;
using Hub.Api.Ingest;
using Hub.Api.Lineage;
using Hub.Api.Quarantine;
using Hub.Connectors;
using Hub.Worker;
using Hub.Worker.Ingest;
using Hub.Worker.Quarantine;
using Hub.Worker.Scheduling;
using Hub.Api.Runs;
using Hub.Worker.Freshness;
using Hub.Worker.Messaging;
using Hub.Worker.Store;
using Hub.Worker.Telemetry;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Hub.Api;

public static class ApiServiceCollectionExtensions
{
    /// <summary>The API's services: store (read side), bus (publish only), problem details, OpenAPI, health, telemetry, API keys and policies.</summary>
    public static IServiceCollection AddHubApi(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services
            .AddHubStore(configuration)
            .AddConnectors(configuration)
            .AddHubCatalog()
            .AddHubMessaging(configuration, withWriter: false)
            .AddSchedulerClient(configuration)
            .AddFreshness(configuration, withMonitor: false)
            .AddHubTelemetry(configuration, "hub-api", metrics => metrics.AddAspNetCoreInstrumentation().AddPrometheusExporter())
            .ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddAspNetCoreInstrumentation());
        // Vietnamese text is written as UTF-8, not as \u escapes.
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
        services.AddProblemDetails();
        services.AddOpenApi(AccessPolicies.DescribeSecurity);
        services.AddHealthChecks().AddNpgSql(sp => sp.GetRequiredService<NpgsqlDataSource>(), name: "postgresql", tags: ["ready"]);
        services.AddSingleton<DatasetQueries>();
        services.AddOptions<RecordPageOptions>().Bind(configuration.GetSection(RecordPageOptions.SectionName));
        services.AddSingleton<DatasetHeads>();
        services.AddHostedService<DatasetChangeListener>();
        services.AddSingleton<RecordPages>();
        services.AddSingleton<RunQueries>();
        services.AddSingleton<QuarantineReplay>();
        services.AddOptions<IngestOptions>().Bind(configuration.GetSection(IngestOptions.SectionName));
        services.AddHubAccess();
        services.AddSingleton<PushIngestion>();
        return services;
    }

    /// <summary>Every endpoint: the portal's reads, runs, freshness and compliance, health, metrics and the OpenAPI document.</summary>
    public static WebApplication MapHubApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi();
        app.MapDatasetsApi();
        app.MapRunsApi();
        app.MapConnectorsApi();
        app.MapExportApi();
        app.MapLineageApi();
        app.MapQuarantineApi();
        app.MapIngestApi();
        app.MapHealthApi();
        app.MapFreshnessApi();
        app.MapPrometheusScrapingEndpoint();
        return app;
    }
}
