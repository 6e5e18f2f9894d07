using System.Collections.Concurrent;
using Hub.Worker.Store;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Api.Datasets;

/// <summary>
/// The current version (and table and registration stamp) of each dataset, kept in memory only while
/// <see cref="DatasetChangeListener"/> listens to <c>hub_dataset_changed</c>: a publication or registration change
/// notifies when it commits and drops the dataset's entry, so the next read asks PostgreSQL again. While not
/// listening (at start, after a lost connection) nothing is kept and every read asks PostgreSQL.
/// </summary>
public sealed class DatasetHeads(TimeProvider time, IOptions<RecordPageOptions> options)
{
    private readonly ConcurrentDictionary<string, Entry> heads = new(StringComparer.Ordinal);
    private long generation;
    private volatile bool listening;

    /// <summary>Taken before reading a head from PostgreSQL and given back to <see cref="Store"/>.</summary>
    public long Generation => Interlocked.Read(ref generation);

    public bool Listening => listening;

    public bool TryGet(string id, out DatasetHead head)
    {
        if (listening && heads.TryGetValue(id, out var entry) && time.GetElapsedTime(entry.ReadAt) < options.Value.HeadMaxAge)
        {
            head = entry.Head;
            return true;
        }

        head = default;
        return false;
    }

    /// <summary>
    /// Keeps <paramref name="head"/>, read from PostgreSQL after <paramref name="generationBefore"/> was taken, unless a
    /// change was notified meanwhile (then the head may be older than the notification and is dropped again).
    /// </summary>
    public void Store(string id, DatasetHead head, long generationBefore)
    {
        if (!listening)
        {
            return;
        }

        var entry = new Entry(head, time.GetTimestamp());
        heads[id] = entry;
        if (Generation != generationBefore || !listening)
        {
            heads.TryRemove(new KeyValuePair<string, Entry>(id, entry));
        }
    }

    /// <summary>A change of <paramref name="id"/> was notified (committed).</summary>
    public void Changed(string id)
    {
        Interlocked.Increment(ref generation);
        heads.TryRemove(id, out _);
    }

    /// <summary>The listener is (or is no longer) subscribed: either way, what is kept may have missed a notification.</summary>
    public void SetListening(bool value)
    {
        listening = value;
        Interlocked.Increment(ref generation);
        heads.Clear();
    }

    private sealed record Entry(DatasetHead Head, long ReadAt);
}

/// <summary>Listens to <c>hub_dataset_changed</c> on a connection of its own and tells <see cref="DatasetHeads"/>.</summary>
public sealed partial class DatasetChangeListener(
    IConfiguration configuration, DatasetHeads heads, TimeProvider time, ILogger<DatasetChangeListener> logger) : BackgroundService
{
    public const string Channel = "hub_dataset_changed";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString(StoreServiceCollectionExtensions.ConnectionStringName))
        {
            Pooling = false,
            // A keepalive query every 10 s: a dead connection ends WaitAsync instead of silently missing notifications.
            KeepAlive = 10,
            ApplicationName = "hub-api-listener",
        };
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                connection.Notification += (_, e) => heads.Changed(e.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"listen {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                heads.SetListening(true);
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogLost(logger, e);
            }
            finally
            {
                heads.SetListening(false);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the dataset change notifications; records are read without the in-memory current version until they are back")]
    private static partial void LogLost(ILogger logger, Exception exception);
}
