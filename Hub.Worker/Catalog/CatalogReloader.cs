using Hub.Connectors;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Catalog;

/// <summary>Something that acts on a changed catalogue (the worker's scheduler reschedules the changed datasets).</summary>
public interface ICatalogChangeHandler
{
    Task OnCatalogChangedAsync(CatalogChange change, CancellationToken cancellationToken);
}

/// <summary>
/// Hot reload of <c>connectors.d/</c>: every <see cref="ConnectorOptions.ReloadInterval"/> it checks the files'
/// hashes and, when one changed, reloads the catalogue and hands the change to the handlers. A periodic check
/// rather than a FileSystemWatcher: it also works on network and container-mounted folders.
/// </summary>
public sealed partial class CatalogReloader(
    HubCatalog catalog,
    IEnumerable<ICatalogChangeHandler> handlers,
    IOptions<ConnectorOptions> options,
    TimeProvider time,
    ILogger<CatalogReloader> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.ReloadInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
                await ReloadNowAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or Npgsql.NpgsqlException or Quartz.SchedulerException)
            {
                LogReloadFailed(logger, e);
            }
        }
    }

    /// <summary>Reloads when a file changed and lets every handler act on the change.</summary>
    public async Task ReloadNowAsync(CancellationToken cancellationToken)
    {
        if (catalog.ReloadIfChanged() is not { } change || (change.Changed.Count == 0 && change.Removed.Count == 0))
        {
            return;
        }

        foreach (var handler in handlers)
        {
            await handler.OnCatalogChangedAsync(change, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Reloading connectors.d failed; the catalogue in use is unchanged and the next check retries")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception);
}
