using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Hub.Connectors.Tests.Http;

/// <summary>
/// An agency that answers with a 1 GB body, generated as it is sent (chunked, no Content-Length) and counted.
/// WireMock builds every body in memory, so this one is a small Kestrel app: it shows that the hub reads a body
/// as it arrives and stops at its limit, rather than downloading the gigabyte.
/// </summary>
public sealed class EndlessAgency : IAsyncDisposable
{
    public const long BodyBytes = 1L << 30;
    private readonly WebApplication app;
    private long sent;

    private EndlessAgency(WebApplication app) => this.app = app;

    public Uri Url(string path) => new(app.Urls.First() + path);

    /// <summary>Bytes sent so far (the client's socket buffers hold a few megabytes more than it read).</summary>
    public long Sent => Interlocked.Read(ref sent);

    /// <summary>Set once the answer ended: completed, or broken off by the client.</summary>
    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<EndlessAgency> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var agency = new EndlessAgency(app);
        app.MapGet("/huge.json", context => agency.SendAsync(context, "application/json", """{"data":[""", """{"ma_xa":"22738","ten_xa":"Phường Đô Vinh"},"""));
        app.MapGet("/huge.csv", context => agency.SendAsync(context, "text/csv", "ma_xa;ten_xa\r\n", "22738;Phường Đô Vinh\r\n"));
        await app.StartAsync();
        return agency;
    }

    private async Task SendAsync(HttpContext context, string contentType, string start, string repeated)
    {
        context.Response.ContentType = contentType;
        var chunk = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(repeated, 64 * 1024 / repeated.Length)));
        try
        {
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(start), context.RequestAborted);
            while (Sent < BodyBytes)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                Interlocked.Add(ref sent, chunk.Length);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client stopped reading and closed the connection.
        }
        finally
        {
            Finished.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
