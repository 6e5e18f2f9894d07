using System.Threading.RateLimiting;
using Hub.Connectors.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Hub.Connectors;

public static class ConnectorsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the agency HTTP client, with one resilience pipeline per agency (retry with jitter and
    /// Retry-After, circuit breaker, the agency's rate limit, attempt timeout), and the sources of every kind.
    /// </summary>
    public static IServiceCollection AddConnectors(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ConnectorOptions>()
            .Bind(configuration.GetSection(ConnectorOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<PrivacyOptions>()
            .Bind(configuration.GetSection(PrivacyOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(AgencyHttp.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler("agency", (builder, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<ConnectorOptions>>().Value;
                if (options.MaxRetries > 0)
                {
                    builder.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = options.MaxRetries,
                        Delay = options.RetryDelay,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        ShouldRetryAfterHeader = true,
                    });
                }

                builder.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                {
                    FailureRatio = options.CircuitFailureRatio,
                    MinimumThroughput = options.CircuitMinimumThroughput,
                    SamplingDuration = options.CircuitSamplingDuration,
                    BreakDuration = options.CircuitBreakDuration,
                });
                AddRateLimit(builder, context, AgencyHttp.ParseRateLimit(context.InstanceName));
                builder.AddTimeout(options.AttemptTimeout);
            })
            .SelectPipelineBy(_ => request => request.Options.TryGetValue(AgencyHttp.PipelineOption, out var key) ? key : "default");
        services.TryAddSingleton<AgencyHttp>();
        services.TryAddSingleton<OAuth2TokenCache>();
        services.TryAddSingleton<RestJsonSource>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRecordSource, RestJsonSource>(sp => sp.GetRequiredService<RestJsonSource>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRecordSource, ODataSource>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRecordSource, SoapXmlSource>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRecordSource, CsvSource>());
        services.TryAddSingleton<RecordSources>();
        return services;
    }

    /// <summary>The agency's <c>rate_limit</c>: waiting (not failing) for a permit, per second and for concurrent requests.</summary>
    private static void AddRateLimit(ResiliencePipelineBuilder<HttpResponseMessage> builder, ResilienceHandlerContext context, Core.Catalog.RateLimitDefinition limit)
    {
        if (limit.ConcurrentRequests is { } concurrent)
        {
            var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = concurrent, QueueLimit = 100_000, QueueProcessingOrder = QueueProcessingOrder.OldestFirst });
            context.OnPipelineDisposed(limiter.Dispose);
            builder.AddRateLimiter(limiter);
        }

        if (limit.RequestsPerSecond is { } perSecond)
        {
            var tokens = Math.Max(1, (int)Math.Floor(perSecond));
            var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = tokens,
                TokensPerPeriod = tokens,
                ReplenishmentPeriod = TimeSpan.FromSeconds(tokens / perSecond),
                QueueLimit = 100_000,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            });
            context.OnPipelineDisposed(limiter.Dispose);
            builder.AddRateLimiter(limiter);
        }
    }
}
