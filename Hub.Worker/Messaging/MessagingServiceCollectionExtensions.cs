using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Worker.Messaging;

public static class MessagingServiceCollectionExtensions
{
    public const string ConnectionStringName = "RabbitMq";

    /// <summary>
    /// MassTransit on RabbitMQ (connection string <c>RabbitMq</c>, an AMQP URI). The worker passes
    /// <paramref name="withWriter"/> to host the snapshot writer's consumers; the API only publishes.
    /// </summary>
    public static IServiceCollection AddHubMessaging(this IServiceCollection services, IConfiguration configuration, bool withWriter)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var uri = RabbitMqUri(configuration);
        if (withWriter)
        {
            services.AddSingleton<VersionEvents>();
        }

        services.AddMassTransit(bus =>
        {
            // The hub runs on networks that reach nothing outside: no usage reports to the library's vendor.
            bus.DisableUsageTelemetry();
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(configuration["Messaging:QueuePrefix"] ?? "hub", includeNamespace: false));
            if (withWriter)
            {
                bus.AddConsumer<RunFetchCompletedConsumer, RunFetchCompletedConsumerDefinition>();
            }

            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.UseHost(uri);
                rabbit.ConfigureEndpoints(context);
            });
        });
        return services;
    }

    /// <summary>Points a RabbitMQ bus at the broker of an AMQP URI (user, password and virtual host included).</summary>
    public static void UseHost(this IRabbitMqBusFactoryConfigurator rabbit, Uri uri)
    {
        ArgumentNullException.ThrowIfNull(rabbit);
        ArgumentNullException.ThrowIfNull(uri);
        var credentials = Uri.UnescapeDataString(uri.UserInfo).Split(':', 2);
        var virtualHost = uri.AbsolutePath.Length > 1 ? Uri.UnescapeDataString(uri.AbsolutePath[1..]) : "/";
        rabbit.Host(uri.Host, (ushort)(uri.IsDefaultPort ? 5672 : uri.Port), virtualHost, host =>
        {
            if (credentials[0].Length > 0)
            {
                host.Username(credentials[0]);
                host.Password(credentials.Length > 1 ? credentials[1] : string.Empty);
            }
        });
    }

    public static Uri RabbitMqUri(IConfiguration configuration)
    {
        var value = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionStringName} must be an AMQP URI such as amqp://user:password@127.0.0.1:5672/ (environment variable ConnectionStrings__{ConnectionStringName}); './hub up' sets it for you");
        }

        return uri;
    }
}
