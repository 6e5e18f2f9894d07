using Hub.Core.Time;
using Quartz;

namespace Hub.Worker.Freshness;

/// <summary>The connector's own schedule (Quartz cron, Vietnam time).</summary>
public static class ConnectorSchedule
{
    /// <summary>The first scheduled run after <paramref name="after"/>, or null when the cron never fires again or is invalid.</summary>
    public static DateTimeOffset? NextFireAfter(string cron, DateTimeOffset after) =>
        CronExpression.TryParse(cron, out var expression) ? expression!.WithTimeZone(VietnamTime.Zone).GetNextValidTimeAfter(after) : null;
}
