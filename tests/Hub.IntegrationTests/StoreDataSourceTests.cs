using Hub.Worker.Store;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Hub.IntegrationTests;

/// <summary>The store's data source: what it sets by default, and that a connection string's own settings win.</summary>
public sealed class StoreDataSourceTests
{
    [Fact]
    public async Task Statements_are_prepared_and_time_out_by_default()
    {
        var given = await ConnectionStringOfAsync("Host=127.0.0.1;Username=hub;Database=hub");

        Assert.Equal(64, given.MaxAutoPrepare);
        Assert.Equal((int)new StoreOptions().CommandTimeout.TotalSeconds, given.CommandTimeout);
    }

    [Theory]
    [InlineData("Max Auto Prepare=0;Command Timeout=7")]
    [InlineData("maxautoprepare=0;commandtimeout=7")]
    public async Task The_connection_strings_own_settings_win_even_zero(string settings)
    {
        var given = await ConnectionStringOfAsync("Host=127.0.0.1;Username=hub;Database=hub;" + settings);

        Assert.Equal(0, given.MaxAutoPrepare);
        Assert.Equal(7, given.CommandTimeout);
    }

    private static async Task<NpgsqlConnectionStringBuilder> ConnectionStringOfAsync(string connectionString)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Hub"] = connectionString })
            .Build();
        await using var services = new ServiceCollection().AddLogging().AddHubStore(configuration).BuildServiceProvider();
        return new NpgsqlConnectionStringBuilder(services.GetRequiredService<NpgsqlDataSource>().ConnectionString);
    }
}
