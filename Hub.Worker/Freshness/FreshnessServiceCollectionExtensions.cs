using Hub.Core.Freshness;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Freshness;

public static class FreshnessServiceCollectionExtensions
{
    /// <summary>
    /// Freshness against the update cycles (section <c>Freshness</c>): the rules and the store queries; with
    /// <paramref name="withMonitor"/> (the worker) also the Quartz job that publishes obligation changes.
    /// Needs <c>AddHubStore</c>, and for the monitor <c>AddHubMessaging</c> and <c>AddConnectorScheduling</c>.
    /// </summary>
    public static IServiceCollection AddFreshness(this IServiceCollection services, IConfiguration configuration, bool withMonitor)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<FreshnessOptions>()
            .Bind(configuration.GetSection(FreshnessOptions.SectionName))
            .Validate(o => o.Validate().Count == 0, "invalid Freshness settings: deadlines and AtRiskDays must be 0 or more, QuarterlyReportDay 1 to 28, EvaluationInterval positive")
            .ValidateOnStart();
        services.AddSingleton(sp => new FreshnessRules(sp.GetRequiredService<IOptions<FreshnessOptions>>().Value));
        services.AddSingleton<FreshnessStore>();
        if (withMonitor)
        {
            services.AddSingleton<FreshnessNotifier>();
            services.AddHostedService<FreshnessJobScheduler>();
        }

        return services;
    }
}
