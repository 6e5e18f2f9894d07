using Hub.Connectors;
using Hub.Worker.Catalog;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Hub.IntegrationTests;

public sealed class CatalogReloaderTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("it-reload-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task A_change_a_handler_fails_on_does_not_stop_the_reload_loop_and_is_applied_again()
    {
        TestAgency.WriteConnectors(folder, "http://agency.test");
        var options = Options.Create(new ConnectorOptions { Path = folder, ReloadInterval = TimeSpan.FromMilliseconds(50) });
        var catalog = new HubCatalog(options, Options.Create(new PrivacyOptions()), NullLogger<HubCatalog>.Instance);
        var handler = new FailsOnce();
        using var reloader = new CatalogReloader(catalog, [handler], options, TimeProvider.System, NullLogger<CatalogReloader>.Instance);
        await reloader.StartAsync(CancellationToken.None);
        try
        {
            var file = Directory.EnumerateFiles(folder, "*.yaml").First();
            await File.AppendAllTextAsync(file, "\n# an edit\n");
            for (var waited = 0; waited < 200 && handler.Calls < 2; waited++)
            {
                await Task.Delay(50);
            }

            // An exception nobody expected (not I/O, not the store) failed the first apply; the loop went on and applied it.
            Assert.True(handler.Calls >= 2, $"the handler was called {handler.Calls} time(s)");
            Assert.False(reloader.ExecuteTask!.IsCompleted, "the reload loop ended");
        }
        finally
        {
            await reloader.StopAsync(CancellationToken.None);
        }
    }

    private sealed class FailsOnce : ICatalogChangeHandler
    {
        private int calls;

        public int Calls => Volatile.Read(ref calls);

        public Task OnCatalogChangedAsync(CatalogChange change, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref calls) == 1 ? throw new ArgumentException("a handler bug") : Task.CompletedTask;
    }
}
