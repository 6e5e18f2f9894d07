namespace Hub.Core.Time;

/// <summary>Schedules and deadlines are Vietnam time (Asia/Ho_Chi_Minh, UTC+7, no daylight saving).</summary>
public static class VietnamTime
{
    public static TimeZoneInfo Zone { get; } = TimeZoneInfo.FindSystemTimeZoneById("Asia/Ho_Chi_Minh");
}
