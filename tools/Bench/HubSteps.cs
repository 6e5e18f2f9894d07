using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using NpgsqlTypes;

namespace Bench;

/// <summary>The hub's side of the benchmark, driven through its API like an operator would.</summary>
internal static partial class HubSteps
{
    /// <summary>
    /// Runs a dataset now and waits for the run to end: wall time, the worker's CPU and peak memory. Then waits until the
    /// change events of the version it published are sent (<c>hub.versions.events_sent_at</c>), so that the next step
    /// does not share the machine with them, and reports when that was.
    /// </summary>
    public static async Task<StepResult> SyncAsync(HttpClient api, NpgsqlDataSource store, string name, string dataset, int workerPid, int apiPid)
    {
        var previous = await LatestRunAsync(api, dataset);
        ProcessStats.ResetPeak(workerPid);
        ProcessStats.ResetPeak(apiPid);
        var cpu = ProcessStats.CpuSeconds(workerPid);
        var clock = Stopwatch.StartNew();
        (await api.PostAsync($"/api/connectors/{dataset}/run", null)).EnsureSuccessStatusCode();
        // The end of the run is watched in the store, every 50 ms: answering a poll through the API five times a second
        // took about 1 CPU-second of the two cores during a 1,000,000-record run (mostly the young API's JIT), which is the
        // bench's load, not the hub's. The run itself is then read once through the API.
        await using (var ended = store.CreateCommand("select exists (select 1 from hub.runs where dataset_id = $1 and id is distinct from $2 and status <> 'running')"))
        {
            ended.Parameters.AddWithValue(dataset);
            ended.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Uuid, Value = previous is { } last ? Guid.Parse(last.GetProperty("id").GetString()!) : DBNull.Value });
            await WaitUntilAsync(ended, clock, $"{dataset}: no finished run");
        }

        var wall = clock.Elapsed.TotalSeconds;
        var run = (await LatestRunAsync(api, dataset))!.Value;
        double? eventsSeconds = null;
        if (run.GetProperty("version").ValueKind == JsonValueKind.Number)
        {
            await using var sent = store.CreateCommand("select events_sent_at is not null from hub.versions where run_id = $1");
            sent.Parameters.AddWithValue(Guid.Parse(run.GetProperty("id").GetString()!));
            await WaitUntilAsync(sent, clock, $"{dataset}: the change events of run {run.GetProperty("id")} were not sent");
            eventsSeconds = clock.Elapsed.TotalSeconds;
        }

        clock.Stop();
        if (run.GetProperty("status").GetString() != "succeeded")
        {
            Console.Error.WriteLine($"{dataset}: run {run.GetProperty("id")} {run.GetProperty("status")}: {run.GetProperty("error")}");
        }

        var started = run.GetProperty("startedAt").GetDateTimeOffset();
        var fetched = run.GetProperty("fetchFinishedAt").GetDateTimeOffset();
        var finished = run.GetProperty("finishedAt").GetDateTimeOffset();
        return new StepResult(name, run.GetProperty("fetched").GetInt64(), wall, ProcessStats.CpuSeconds(workerPid) - cpu,
            ProcessStats.PeakRssMb(workerPid), run, ProcessStats.PeakRssMb(apiPid), (fetched - started).TotalSeconds, (finished - fetched).TotalSeconds, eventsSeconds);
    }

    /// <summary>Runs <paramref name="query"/> every 50 ms until it answers true; fails with <paramref name="what"/> after 30 minutes.</summary>
    private static async Task WaitUntilAsync(NpgsqlCommand query, Stopwatch clock, string what)
    {
        while (await query.ExecuteScalarAsync() is not true)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(30))
            {
                throw new TimeoutException($"{what} after 30 minutes");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// 100-record pushes, each timed from the POST until all its records are visible through
    /// <c>GET /api/datasets/{id}/records</c>. The pushed ids sort after every generated key, so one page shows them.
    /// </summary>
    public static async Task<PushResult> PushLatencyAsync(HttpClient api, BenchOptions options)
    {
        if (options.PushKey is null)
        {
            return new PushResult(0, null, null, "no agency key given (--push-key)");
        }

        const int pushes = 50;
        const int size = 100;
        const long firstId = 999_999_990_000;
        var latencies = new List<double>(pushes);
        for (var push = 0; push < pushes; push++)
        {
            var marker = $"push-{push}";
            var records = Enumerable.Range(0, size).Select(i => new
            {
                id = firstId + i,
                ma_ho_so = $"HS-2026-{i:0000000}",
                ho_ten = "Nguyễn Văn Đẩy",
                ngay_sinh = "1990-01-01",
                dia_chi = "Phường Đô Vinh, Thành phố Phan Rang-Tháp Chàm",
                ma_xa = "22738",
                so_tien = 1000.5 + push,
                trang_thai = "moi",
                ngay_cap_nhat = "2026-11-28T08:00:00+07:00",
                ghi_chu = marker,
            }).ToList();
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/ingest/{options.SmallDataset}") { Content = JsonContent.Create(records) };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.PushKey);
            var clock = Stopwatch.StartNew();
            using (var response = await api.SendAsync(request))
            {
                if (!response.IsSuccessStatusCode)
                {
                    return new PushResult(push, null, null, $"push answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }

            while (true)
            {
                var page = await api.GetFromJsonAsync<JsonElement>($"/api/datasets/{options.SmallDataset}/records?after={firstId - 1}&limit={size}");
                var visible = page.GetProperty("records");
                if (visible.GetArrayLength() == size && visible.EnumerateArray().All(r => r.GetProperty("ghi_chu").GetString() == marker))
                {
                    break;
                }

                if (clock.Elapsed > TimeSpan.FromSeconds(60))
                {
                    return new PushResult(push, null, null, $"push {push} not visible after 60 s");
                }

                await Task.Delay(10);
            }

            latencies.Add(clock.Elapsed.TotalMilliseconds);
        }

        latencies.Sort();
        return new PushResult(pushes, Percentile(latencies, 0.50), Percentile(latencies, 0.99), null);
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

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
