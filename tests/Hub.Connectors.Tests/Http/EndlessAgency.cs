using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hub.Connectors.Tests.Http;

/// <summary>
/// An agency that answers every request with a 1 GB body, generated as it is sent (HTTP/1.1 chunked, no
/// Content-Length), counting the bytes the socket accepted. WireMock builds every body in memory, and Kestrel keeps
/// accepting (and dropping) writes for a while after the client hung up, so this is a bare socket: a send fails as
/// soon as the hub closed the connection, and <see cref="Sent"/> shows how much the hub let through.
/// </summary>
public sealed class EndlessAgency : IDisposable
{
    public const long BodyBytes = 1L << 30;
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private long sent;

    public EndlessAgency()
    {
        listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    public Uri Url(string path) => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}{path}");

    /// <summary>Body bytes the socket accepted (the kernel buffers a few megabytes more than the client read).</summary>
    public long Sent => Interlocked.Read(ref sent);

    /// <summary>Set once the answer ended: all sent, or broken off by the client.</summary>
    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task AcceptAsync()
    {
        try
        {
            using var client = await listener.AcceptTcpClientAsync(stop.Token);
            await using var stream = client.GetStream();
            var path = await ReadRequestPathAsync(stream);
            var csv = path.EndsWith(".csv", StringComparison.Ordinal);
            var (start, repeated) = csv
                ? ("ma_xa;ten_xa\r\n", "22738;Phường Đô Vinh\r\n")
                : ("""{"data":[""", """{"ma_xa":"22738","ten_xa":"Phường Đô Vinh"},""");
            var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(repeated, 64 * 1024 / Encoding.UTF8.GetByteCount(repeated))));
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: {(csv ? "text/csv" : "application/json")}\r\nTransfer-Encoding: chunked\r\n\r\n"), stop.Token);
            await WriteChunkAsync(stream, Encoding.UTF8.GetBytes(start));
            while (Sent < BodyBytes)
            {
                await WriteChunkAsync(stream, data);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // The client closed the connection (or the test ended).
        }
        finally
        {
            Finished.TrySetResult();
        }
    }

    private async Task WriteChunkAsync(NetworkStream stream, byte[] data)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{data.Length:x}\r\n"), stop.Token);
        await stream.WriteAsync(data, stop.Token);
        await stream.WriteAsync("\r\n"u8.ToArray(), stop.Token);
        Interlocked.Add(ref sent, data.Length);
    }

    /// <summary>Reads the request up to its blank line and returns its path.</summary>
    private async Task<string> ReadRequestPathAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var buffer = new byte[4096];
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, stop.Token);
            if (read == 0)
            {
                throw new IOException("the client closed the connection before its request ended");
            }

            head.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return head.ToString().Split(' ')[1];
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        stop.Dispose();
    }
}
