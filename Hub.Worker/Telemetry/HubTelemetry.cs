using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Hub.Worker.Telemetry;

/// <summary>The hub's own traces and metrics (source and meter "Hub").</summary>
public static class HubTelemetry
{
    public const string Name = "Hub";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> RecordsFetched = Meter.CreateCounter<long>("hub.records.fetched", "{record}", "Records fetched from agencies");

    public static readonly Counter<long> RecordsQuarantined = Meter.CreateCounter<long>("hub.records.quarantined", "{record}", "Records that failed validation");

    public static readonly Counter<long> RunsFinished = Meter.CreateCounter<long>("hub.runs.finished", "{run}", "Runs finished, by dataset and status");

    public static readonly Counter<long> RowDropAlarms = Meter.CreateCounter<long>("hub.quality.row_drop_alarms", "{alarm}", "Runs whose row count dropped past Quality:RowDropAlarm, by dataset");

    public static readonly Histogram<double> BatchWriteSeconds = Meter.CreateHistogram<double>(
        "hub.writer.batch.duration",
        "s",
        "Time to stage one batch",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
}
