using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Hub.Connectors.Tests.Demo;

/// <summary>The demo agency (tools/DemoAgency) as built, started as a process of its own on a free loopback port.</summary>
public sealed class DemoAgencyProcess : IAsyncDisposable
{
    private readonly Process process;

    private DemoAgencyProcess(Process process, Uri url)
    {
        this.process = process;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<DemoAgencyProcess> StartAsync()
    {
        var dll = Path.Combine(RepositoryRoot(), "tools", "DemoAgency", "bin", BuildConfiguration, "net10.0", "DemoAgency.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first");
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(url.ToString());
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the demo agency");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var agency = new DemoAgencyProcess(process, url);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 300; attempt++)
        {
            Assert.False(process.HasExited, $"the demo agency exited with code {(process.HasExited ? process.ExitCode : 0)}");
            try
            {
                using var health = await client.GetAsync(new Uri(url, "/health"));
                if (health.IsSuccessStatusCode)
                {
                    return agency;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        await agency.DisposeAsync();
        throw new TimeoutException($"the demo agency did not answer {url}health within 60 s");
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

#if DEBUG
    private const string BuildConfiguration = "Debug";
#else
    private const string BuildConfiguration = "Release";
#endif

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ConnectorHub.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no ConnectorHub.sln above {AppContext.BaseDirectory}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
