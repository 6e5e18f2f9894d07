using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Hub.Connectors.Http;

/// <summary>Fetches the next pages while the caller works on the current one, so agency latency and checking overlap.</summary>
public static class PagePrefetch
{
    /// <summary>
    /// Yields the pages of <paramref name="pages"/> in order, reading up to <paramref name="ahead"/> pages in advance.
    /// A failure of the source is rethrown as it was, after the pages before it; pages not handed out are disposed.
    /// </summary>
    public static async IAsyncEnumerable<T> Prefetch<T>(this IAsyncEnumerable<T> pages, int ahead, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : IDisposable
    {
        ArgumentNullException.ThrowIfNull(pages);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(ahead) { SingleReader = true, SingleWriter = true });
        ExceptionDispatchInfo? failure = null;
        var producer = Task.Run(
            async () =>
            {
                try
                {
                    await foreach (var page in pages.WithCancellation(stop.Token))
                    {
                        try
                        {
                            await channel.Writer.WriteAsync(page, stop.Token);
                        }
                        catch
                        {
                            page.Dispose();
                            throw;
                        }
                    }
                }
                catch (Exception e) when (!stop.IsCancellationRequested)
                {
                    failure = ExceptionDispatchInfo.Capture(e);
                }
                catch (OperationCanceledException)
                {
                }
                finally
                {
                    channel.Writer.TryComplete();
                }
            },
            CancellationToken.None);
        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken))
            {
                while (channel.Reader.TryRead(out var page))
                {
                    yield return page;
                }
            }

            await producer;
            failure?.Throw();
        }
        finally
        {
            await stop.CancelAsync();
            await producer;
            while (channel.Reader.TryRead(out var left))
            {
                left.Dispose();
            }
        }
    }
}
