using Conveyor.Server;

namespace Conveyor.Diagnostics;

/// <summary>
/// How an attempt ended, as the <c>status</c> of <c>job_processed_total</c> and in the logs: success and failed are the
/// job's own outcomes (the seed's contract); an attempt that a user's cancel or the server's shutdown interrupted is
/// neither, so it is counted as cancelled or released and not logged as a failure; one that ended so that its job waits
/// (a wait for a signal, a durable sleep, a snooze) is snoozed; one whose lease ended under it (nothing of it is
/// recorded, and another attempt runs the job) is lease_lost, as its log line says. The same rules as the acknowledgement
/// the processor records.
/// </summary>
internal static class AttemptStatus
{
    public const string Success = "success";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Released = "released";
    public const string Snoozed = "snoozed";
    public const string LeaseLost = "lease_lost";

    public static readonly string[] All = [Success, Failed, Cancelled, Released, Snoozed, LeaseLost];

    /// <summary>The status of an attempt that threw (or was stopped) for <paramref name="reason"/>.</summary>
    public static string OfInterrupted(StopReason reason) => reason switch
    {
        StopReason.Shutdown => Released,
        StopReason.CancelRequested => Cancelled,
        StopReason.LeaseLost => LeaseLost,
        _ => Failed,
    };
}
