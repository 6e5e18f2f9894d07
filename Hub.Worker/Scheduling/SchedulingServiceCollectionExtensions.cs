using Hub.Worker.Catalog;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace Hub.Worker.Scheduling;

public static class SchedulingServiceCollectionExtensions
{
    /// <summary>
    /// Quartz on its persistent job store in PostgreSQL, clustered, so that adding a worker never fires a run
    /// twice; one job per dataset, scheduled from the catalogue at start.
    /// </summary>
    public static IServiceCollection AddConnectorScheduling(this IServiceCollection services, IConfiguration configuration)
    {
        var options = BindOptions(services, configuration);
        services.AddSingleton<DatasetSync>();
        services.AddSingleton<AutoPause>();
        services.AddQuartz(quartz =>
        {
            UseClusteredStore(quartz, options);
            quartz.UseDefaultThreadPool(pool => pool.MaxConcurrency = options.MaxConcurrency);
            quartz.ScheduleJob<HousekeepingJob>(
                trigger => trigger.WithIdentity("housekeeping", "maintenance").WithCronSchedule("0 0/5 * * * ?"),
                job => job.WithIdentity(HousekeepingJob.Key));
        });
        services.AddQuartzHostedService(hosted => hosted.WaitForJobsToComplete = true);
        services.AddSingleton<ConnectorScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<ConnectorScheduler>());
        services.AddSingleton<ICatalogChangeHandler>(sp => sp.GetRequiredService<ConnectorScheduler>());
        return services;
    }

    /// <summary>
    /// A client of the same clustered job store that never runs jobs itself: the API stores "run now", pause and
    /// resume there, and a worker fires them.
    /// </summary>
    public static IServiceCollection AddSchedulerClient(this IServiceCollection services, IConfiguration configuration)
    {
        var options = BindOptions(services, configuration);
        services.AddQuartz(quartz => UseClusteredStore(quartz, options));
        return services;
    }

    /// <summary>Binds <see cref="SchedulingOptions"/> and returns them, for the Quartz set-up that needs them now.</summary>
    private static SchedulingOptions BindOptions(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(SchedulingOptions.SectionName);
        services.AddOptions<SchedulingOptions>().Bind(section);
        return section.Get<SchedulingOptions>() ?? new SchedulingOptions();
    }

    private static void UseClusteredStore(IQuartzBuilder quartz, SchedulingOptions options)
    {
        quartz.ConfigureScheduler(scheduler =>
        {
            scheduler.InstanceName = "hub";
            scheduler.GenerateInstanceId = true;
            scheduler.IdleWaitTime = options.IdleWaitTime;
        });
        quartz.UsePersistentStore(store =>
        {
            store.UsePostgres(source => source.UseRegisteredDataSource = true);
            store.ConfigureStore(ado =>
            {
                ado.TablePrefix = "quartz.qrtz_";
                ado.StoreJobDataAsStrings = true;
            });
            store.ProvisionSchema();
            store.UseSystemTextJsonSerializer();
            store.UseClustering(cluster => cluster.CheckinInterval = options.ClusterCheckinInterval);
        });
    }
}
