using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Bench;
using Npgsql;

// ./hub bench runs this against services, a demo agency, a worker and an API it started (see README, docs/performance.md).
var options = BenchOptions.Parse(args);
using var api = new HttpClient { BaseAddress = new Uri(options.Api), Timeout = TimeSpan.FromMinutes(5) };
// Runs are started as an operator (POST /api/connectors/{dataset}/run needs an operator key).
api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.OperatorKey);
using var agency = new HttpClient { BaseAddress = new Uri(options.Agency), Timeout = TimeSpan.FromMinutes(5) };
await using var store = NpgsqlDataSource.Create(options.Postgres);
var results = new List<StepResult>();
void Report(StepResult step)
{
    results.Add(step);
    Console.WriteLine(step.Describe());
}

Console.WriteLine($"bench: {options.Records:N0} records, pages of {options.PageSize:N0}, {Environment.ProcessorCount} cores");

// 5. The floor, measured first in the same run.
var baseline = await Baseline.RunAsync(agency, $"{options.Agency}/api/generated/{options.Dataset}?count={options.Records}&revision=0", options.PageSize, options.Postgres, CancellationToken.None);
Report(baseline);

// Memory flatness: the worker's peak at 100k records, then at the full size.
var small = await HubSteps.SyncAsync(api, store, "full sync 100k", options.SmallDataset, options.WorkerPid, options.ApiPid);
Report(small);

// 1. Full sync.
var full = await HubSteps.SyncAsync(api, store, "full sync", options.Dataset, options.WorkerPid, options.ApiPid);
Report(full);

// 2. Incremental: the agency changes 1 %, deletes 0.1 %, adds 0.1 %; the hub asks for what changed since its cursor
// (the largest ngay_cap_nhat of the full sync, minus an hour of look-back), deletions included as records marked da_xoa.
(await agency.PutAsync($"/admin/generated/{options.Dataset}/revision/1", null)).EnsureSuccessStatusCode();
var expected = await agency.GetFromJsonAsync<JsonElement>($"/api/generated/{options.Dataset}/expected?count={options.Records}&revision=1");
var incremental = await HubSteps.SyncAsync(api, store, "incremental sync", options.Dataset, options.WorkerPid, options.ApiPid);
Report(incremental);
var countsMatch = incremental.Run is { } run
                  && run.GetProperty("updated").GetInt64() == expected.GetProperty("changed").GetInt64()
                  && run.GetProperty("deleted").GetInt64() == expected.GetProperty("deleted").GetInt64()
                  && run.GetProperty("inserted").GetInt64() == expected.GetProperty("added").GetInt64();
Console.WriteLine($"  expected changed/deleted/added {expected.GetProperty("changed")}/{expected.GetProperty("deleted")}/{expected.GetProperty("added")}: {(countsMatch ? "reported exactly" : "MISMATCH")}; " +
                  $"fetched {incremental.Run?.GetProperty("fetched")} records changed since the cursor, {incremental.Run?.GetProperty("unchanged")} of them unchanged (the look-back)");

// 3. Push latency.
var push = await HubSteps.PushLatencyAsync(api, options);
Console.WriteLine(push.Describe());

// 4. Read throughput under wrk, after 3 s of the same load that are not counted: the API's steady state, not its JIT
// warming up.
var reads = $"{options.Api}/api/datasets/{options.Dataset}/records?limit=100";
HubSteps.ReadThroughput(reads, 3);
var read = HubSteps.ReadThroughput(reads, options.ReadSeconds);
Console.WriteLine(read.Describe());

var ratios = new Dictionary<string, double?>
{
    ["full_sync_wall_vs_baseline"] = full.WallSeconds / baseline.WallSeconds,
    ["full_sync_rows_per_second_vs_baseline"] = full.RowsPerSecond / baseline.RowsPerSecond,
    ["incremental_wall_vs_full_sync"] = incremental.WallSeconds / full.WallSeconds,
    ["full_sync_with_change_events_vs_baseline"] = full.EventsSentSeconds / baseline.WallSeconds,
    ["worker_peak_rss_full_vs_100k"] = full.PeakRssMb / small.PeakRssMb,
};
Console.WriteLine();
Console.WriteLine("ratios (goal in brackets):");
Console.WriteLine($"  full sync wall / baseline wall        {ratios["full_sync_wall_vs_baseline"]:0.00}x   [<= 2]");
Console.WriteLine($"  incremental wall / full sync wall     {ratios["incremental_wall_vs_full_sync"]:0.00}x   [<= 0.25]");
Console.WriteLine($"  full sync until its change events are sent / baseline wall  {ratios["full_sync_with_change_events_vs_baseline"]:0.00}x");
Console.WriteLine($"  worker peak RSS {full.PeakRssMb:0} MB at {options.Records:N0} / {small.PeakRssMb:0} MB at 100k = {ratios["worker_peak_rss_full_vs_100k"]:0.00}x   [<= 300 MB, flat]");
Console.WriteLine($"  push p99                              {(push.P99Ms is { } p99 ? $"{p99:0} ms" : "not measured")}   [<= 1000 ms]");
Console.WriteLine($"  read throughput                       {(read.RequestsPerSecond is { } rps ? $"{rps:0} req/s" : "not measured")}   [>= 2000]");

var document = new
{
    machine = new { cores = Environment.ProcessorCount, os = System.Runtime.InteropServices.RuntimeInformation.OSDescription },
    records = options.Records,
    pageSize = options.PageSize,
    steps = results,
    incrementalCountsMatch = countsMatch,
    push,
    read,
    ratios,
};
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Output))!);
await File.WriteAllTextAsync(options.Output, JsonSerializer.Serialize(document, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
Console.WriteLine($"figures written to {options.Output}");
return countsMatch && full.Run?.GetProperty("status").GetString() == "succeeded" ? 0 : 1;

/// <summary>What one measured step did.</summary>
internal sealed record StepResult(
    string Name, long Rows, double WallSeconds, double CpuSeconds, double PeakRssMb, JsonElement? Run, double? ApiPeakRssMb = null, double? FetchSeconds = null, double? WriteSeconds = null,
    double? EventsSentSeconds = null)
{
    public double RowsPerSecond => Rows / WallSeconds;

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Name,-18} {Rows,10:N0} rows  {WallSeconds,8:0.0} s wall  {RowsPerSecond,9:N0} rows/s  {CpuSeconds,7:0.0} s CPU  peak RSS {PeakRssMb,6:0} MB{(ApiPeakRssMb is { } a ? $" (API {a:0} MB)" : string.Empty)}{(FetchSeconds is { } f ? $"  [fetch+check {f:0.0} s, write+publish {WriteSeconds:0.0} s]" : string.Empty)}{(EventsSentSeconds is { } e ? $"  change events sent {e:0.0} s after the start" : string.Empty)}");
}

internal sealed record PushResult(int Pushes, double? P50Ms, double? P99Ms, string? Note)
{
    public string Describe() => P50Ms is null ? $"push latency       not measured: {Note}" : string.Create(CultureInfo.InvariantCulture, $"push latency       {Pushes} pushes of 100 records  p50 {P50Ms:0} ms  p99 {P99Ms:0} ms");
}

internal sealed record ReadResult(double Seconds, double? RequestsPerSecond, string? Note)
{
    public string Describe() => RequestsPerSecond is null ? $"read throughput    not measured: {Note}" : string.Create(CultureInfo.InvariantCulture, $"read throughput    {RequestsPerSecond:0} requests/s of 100 records for {Seconds:0} s (wrk)");
}

internal sealed record BenchOptions(string Api, string Agency, string Postgres, int WorkerPid, int ApiPid, int Records, int PageSize, string Dataset, string SmallDataset, int ReadSeconds, string Output, string OperatorKey, string? PushKey)
{
    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        string Get(string key, string? fallback = null) =>
            values.TryGetValue(key, out var value) ? value : fallback ?? throw new ArgumentException($"--{key} is required");
        return new BenchOptions(
            Get("api"), Get("agency"), Get("pg"), int.Parse(Get("worker-pid"), CultureInfo.InvariantCulture), int.Parse(Get("api-pid"), CultureInfo.InvariantCulture),
            int.Parse(Get("records", "1000000"), CultureInfo.InvariantCulture), int.Parse(Get("page-size", "5000"), CultureInfo.InvariantCulture),
            Get("dataset", "bench-ho-so"), Get("small-dataset", "bench-ho-so-100k"), int.Parse(Get("read-seconds", "10"), CultureInfo.InvariantCulture),
            Get("out", "bench-results.json"), Get("operator-key"), values.GetValueOrDefault("push-key"));
    }
}
