namespace Conveyor.Server.SampleJobs;

/// <summary>
/// The seed's scheduled job: delete notes archived more than <see cref="OlderThanDays"/> days before the tick. Payload
/// <c>{"older_than_days": 30}</c>. The server runs it daily at 03:00 UTC (schedule <c>note:cleanup-old</c>).
/// </summary>
public sealed record CleanupOldNotes(int OlderThanDays) : IJobPayload
{
    public static string JobType => "note:cleanup-old";

    /// <summary>The schedule's cron expression: every day at 03:00 (UTC, the schedule's default time zone).</summary>
    public const string DailyAt3 = "0 3 * * *";
}
