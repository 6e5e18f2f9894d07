using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Bench;

/// <summary>The hub's side of the benchmark, driven through its API like an operator would.</summary>
internal static partial class HubSteps
{
    /// <summary>Runs a dataset now and waits for the run to end: wall time, the worker's CPU and peak memory.</summary>
    public static async Task<StepResult> SyncAsync(HttpClient api, string name, string dataset, int workerPid, int apiPid)
    {
        var previous = await LatestRunAsync(api, dataset);
        ProcessStats.ResetPeak(workerPid);
        ProcessStats.ResetPeak(apiPid);
        var cpu = ProcessStats.CpuSeconds(workerPid);
        var clock = Stopwatch.StartNew();
        (await api.PostAsync($"/api/connectors/{dataset}/run", null)).EnsureSuccessStatusCode();
        JsonElement run;
        while (true)
        {
            await Task.Delay(200);
            if (await LatestRunAsync(api, dataset) is { } latest && latest.GetProperty("id").GetString() != previous?.GetProperty("id").GetString()
                && latest.GetProperty("status").GetString() != "running")
            {
                run = latest;
                break;
            }

            if (clock.Elapsed > TimeSpan.FromMinutes(30))
            {
                throw new TimeoutException($"{dataset}: no finished run after 30 minutes");
            }
        }

        clock.Stop();
        if (run.GetProperty("status").GetString() != "succeeded")
        {
            Console.Error.WriteLine($"{dataset}: run {run.GetProperty("id")} {run.GetProperty("status")}: {run.GetProperty("error")}");
        }

        var started = run.GetProperty("startedAt").GetDateTimeOffset();
        var fetched = run.GetProperty("fetchFinishedAt").GetDateTimeOffset();
        var finished = run.GetProperty("finishedAt").GetDateTimeOffset();
        return new StepResult(name, run.GetProperty("fetched").GetInt64(), clock.Elapsed.TotalSeconds, ProcessStats.CpuSeconds(workerPid) - cpu,
            ProcessStats.PeakRssMb(workerPid), run, ProcessStats.PeakRssMb(apiPid), (fetched - started).TotalSeconds, (finished - fetched).TotalSeconds);
    }

    public static async Task<PushResult> PushLatencyAsync(HttpClient api, BenchOptions options)
    {
        using var probe = await api.PostAsync($"/api/ingest/{options.Dataset}", JsonContent.Create(Array.Empty<object>()));
        if (probe.StatusCode == System.Net.HttpStatusCode.NotFound || options.PushKey is null)
        {
            return new PushResult(0, null, null, options.PushKey is null ? "no agency key for the push endpoint" : "the API has no push endpoint");
        }

        await Task.CompletedTask;
        return new PushResult(0, null, null, "push measurement not wired yet");
    }

    /// <summary>Read load with wrk (Debian package), bounded in time, on loopback only.</summary>
    public static ReadResult ReadThroughput(string url, int seconds)
    {
        try
        {
            using var wrk = Process.Start(new ProcessStartInfo("wrk", ["-t2", "-c32", $"-d{seconds}s", url]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = wrk.StandardOutput.ReadToEnd();
            wrk.WaitForExit();
            var match = RequestsPerSecond().Match(output);
            var errors = NonSuccess().Match(output);
            return match.Success
                ? new ReadResult(seconds, double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), errors.Success ? $"{errors.Groups[1].Value} non-2xx responses" : null)
                : new ReadResult(seconds, null, $"wrk printed no rate: {output}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return new ReadResult(seconds, null, "wrk is not installed (apt-get install wrk)");
        }
    }

    private static async Task<JsonElement?> LatestRunAsync(HttpClient api, string dataset)
    {
        var runs = await api.GetFromJsonAsync<JsonElement>($"/api/runs?dataset={dataset}&limit=1");
        return runs.GetArrayLength() == 0 ? null : runs[0];
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+([0-9]+)")]
    private static partial Regex NonSuccess();
}
