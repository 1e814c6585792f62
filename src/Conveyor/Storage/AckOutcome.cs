namespace Conveyor.Storage;

/// <summary>How an attempt ended, as a worker reports it to the store.</summary>
public enum AckOutcome
{
    /// <summary>Done: state succeeded, progress 100, result stored, unique key released, retention starts.</summary>
    Succeeded = 0,

    /// <summary>Done with item errors: state partial; otherwise as <see cref="Succeeded"/>.</summary>
    Partial = 1,

    /// <summary>
    /// Failed an attempt that has retries left: state retrying until <see cref="JobAcknowledgement.RetryAt"/>; error appended.
    /// A job whose cancellation was requested while it ran ends cancelled instead.
    /// </summary>
    Retry = 2,

    /// <summary>Failed for good: state failed (the dead set); error appended; unique key released; retention starts.</summary>
    Failed = 3,

    /// <summary>Stopped because cancellation was requested: state cancelled; unique key released; retention starts.</summary>
    Cancelled = 4,

    /// <summary>
    /// Handed back: state pending at once, at the head of its queue (as a recovered job), progress 0; the attempt count
    /// goes down by one (the attempt does not count), no error recorded. Its wait (<see cref="LeasedJob.EnqueuedAt"/>)
    /// starts again now when <see cref="JobAcknowledgement.AttemptRan"/> says its handler ran (the time it ran is no
    /// queue wait), and is kept otherwise (a job that never started waited all along). The lease's start goes with the
    /// attempt: a job left with no attempt has no
    /// <see cref="JobInfo.StartedAt"/> (it never started); one that ran an earlier attempt keeps this lease's start, as
    /// no store keeps the earlier one. A job whose cancellation was requested while it ran ends cancelled instead, its
    /// attempt still not counted (and its start gone with it as above): a hand-back's attempt never counts, whatever
    /// the job ends as.
    /// </summary>
    Released = 5,

    /// <summary>
    /// Handed back to wait: state scheduled until <see cref="JobAcknowledgement.SnoozeUntil"/>, the attempt count goes
    /// down by one (the attempt does not count) and its start goes with it as for <see cref="Released"/>, no error
    /// recorded, <see cref="JobAcknowledgement.SnoozeReason"/> kept on the job (<see cref="JobInfo.SnoozeReason"/>).
    /// For a job that cannot run here and now through no fault of its own: no handler for its type in this server, a
    /// limit that is full, a handler that asks to wait. A job whose cancellation was requested while it ran ends
    /// cancelled instead, its attempt still not counted (nor its start), as for <see cref="Released"/>.
    /// </summary>
    Snoozed = 6,
}
