namespace Conveyor;

/// <summary>A middleware's request to hand the job back to wait (see <see cref="JobContext"/>'s Snooze).</summary>
internal sealed record JobSnoozeRequest(DateTimeOffset Until, string Reason, string MetricReason);
