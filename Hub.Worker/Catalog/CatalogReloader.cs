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
    private CatalogChange? pending;

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
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever one reload runs into (a file half written, the store or the scheduler away, a dataset the
                // registry refuses), the loop goes on: a failed background service would stop the whole host.
                LogReloadFailed(logger, e);
            }
        }
    }

    /// <summary>
    /// Reloads when a file changed and lets every handler act on the change. A change the handlers could not
    /// apply (PostgreSQL or the scheduler unavailable) is kept and applied again at the next check.
    /// </summary>
    public async Task ReloadNowAsync(CancellationToken cancellationToken)
    {
        var change = Combine(pending, catalog.ReloadIfChanged());
        if (change is null || (change.Changed.Count == 0 && change.Removed.Count == 0 && change.Withdrawn.Count == 0))
        {
            pending = null;
            return;
        }

        pending = change;
        foreach (var handler in handlers)
        {
            await handler.OnCatalogChangedAsync(change, cancellationToken);
        }

        pending = null;
    }

    /// <summary>An unapplied change followed by a newer one: the newer entry of a dataset wins.</summary>
    private static CatalogChange? Combine(CatalogChange? older, CatalogChange? newer)
    {
        if (older is null || newer is null)
        {
            return newer ?? older;
        }

        var changed = older.Changed.Where(e => !newer.Removed.Contains(e.Dataset.Id) && newer.Changed.All(n => n.Dataset.Id != e.Dataset.Id))
            .Concat(newer.Changed).ToList();
        var removed = older.Removed.Where(id => changed.All(e => e.Dataset.Id != id)).Union(newer.Removed).ToList();
        var withdrawn = older.Withdrawn.Where(id => changed.All(e => e.Dataset.Id != id)).Union(newer.Withdrawn).ToList();
        return new CatalogChange(changed, removed, withdrawn);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Reloading connectors.d failed; the catalogue in use is unchanged and the next check retries")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception);
}
