namespace Conveyor.Server;

/// <summary>How long a job of a type this server has no handler for waits before it is offered again, and why.</summary>
internal static class UnknownJobTypeSnooze
{
    /// <summary>The <c>reason</c> label of <c>job_snoozed_total</c>.</summary>
    public const string MetricReason = "unknown_job_type";

    /// <summary>
    /// A quarter of the time the job has waited so far, between <paramref name="first"/> and <paramref name="max"/>:
    /// a job whose handler is only being deployed is picked up within about <paramref name="first"/>, and one that
    /// no server handles costs a lease every <paramref name="max"/> at most, without a counter on the job.
    /// </summary>
    public static TimeSpan Delay(TimeSpan first, TimeSpan max, TimeSpan waited)
    {
        var grown = waited > TimeSpan.Zero ? waited / 4 : TimeSpan.Zero;
        return grown < first ? first : grown > max ? (max < first ? first : max) : grown;
    }

    public static string Reason(string jobType) =>
        $"No handler for job type '{jobType}' in the server that leased it; waiting for a server that handles this type.";
}
