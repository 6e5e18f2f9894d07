using System.Data;
using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Hub.Worker.Store;

public static class StoreServiceCollectionExtensions
{
    public const string ConnectionStringName = "Hub";

    /// <summary>
    /// The PostgreSQL store (connection string <c>Hub</c>): data source, migrations applied at start, the
    /// dataset registry, run bookkeeping and the snapshot writer.
    /// </summary>
    public static IServiceCollection AddHubStore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionStringName} is not set: give an Npgsql connection string such as 'Host=127.0.0.1;Port=5432;Username=hub;Password=...;Database=hub' (environment variable ConnectionStrings__{ConnectionStringName}); './hub up' sets it for you");
        }

        SqlMapper.AddTypeHandler(new DateTimeOffsetHandler());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ =>
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            builder.ConnectionStringBuilder.Timezone ??= "Asia/Ho_Chi_Minh";
            builder.ConnectionStringBuilder.ApplicationName ??= AppDomain.CurrentDomain.FriendlyName;
            if (!Sets(connectionString, "CommandTimeout"))
            {
                var store = configuration.GetSection(StoreOptions.SectionName).Get<StoreOptions>() ?? new StoreOptions();
                builder.ConnectionStringBuilder.CommandTimeout = (int)store.CommandTimeout.TotalSeconds;
            }

            // The API and the worker run the same few statements all the time (a page of records; a run's per-page and
            // per-batch bookkeeping): Npgsql prepares the most used ones on each pooled connection, which saves
            // PostgreSQL parsing and planning them every time. A "Max Auto Prepare" in the connection string wins (0: none).
            if (!Sets(connectionString, "MaxAutoPrepare"))
            {
                builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
            }

            return builder.Build();
        });
        services.AddSingleton<DbDataSource>(sp => sp.GetRequiredService<NpgsqlDataSource>());
        services.AddOptions<QualityOptions>().Bind(configuration.GetSection(QualityOptions.SectionName));
        services.AddOptions<StoreOptions>().Bind(configuration.GetSection(StoreOptions.SectionName));
        services.AddSingleton<Housekeeping>();
        services.AddSingleton<Migrator>();
        services.AddSingleton<DatasetRegistry>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<SyncCursors>();
        services.AddSingleton<SnapshotWriter>();
        services.AddSingleton<AuditChain>();
        services.AddHostedService<StoreInitializer>();
        return services;
    }

    /// <summary>Whether the connection string gives <paramref name="keyword"/> (spelt with or without spaces, any case).</summary>
    private static bool Sets(string connectionString, string keyword) =>
        new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Any(key => string.Equals(key.Replace(" ", "", StringComparison.Ordinal), keyword, StringComparison.OrdinalIgnoreCase));

    /// <summary>Applies the migrations before any other hosted service starts.</summary>
    private sealed class StoreInitializer(Migrator migrator) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => migrator.MigrateAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>timestamptz comes back from Npgsql as a UTC DateTime; Dapper maps it to DateTimeOffset through this.</summary>
    private sealed class DateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value) => parameter.Value = value.ToUniversalTime();

        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTime dateTime => new DateTimeOffset(DateTime.SpecifyKind(dateTime, DateTimeKind.Utc)),
            DateTimeOffset offset => offset,
            _ => throw new DataException($"cannot read {value.GetType()} as DateTimeOffset"),
        };
    }
}
