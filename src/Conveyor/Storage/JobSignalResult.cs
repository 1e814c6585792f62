namespace Conveyor.Storage;

/// <summary>What <see cref="IJobSignalStore.SignalAsync"/> did.</summary>
public enum JobSignalResult
{
    /// <summary>No such job in that tenant: nothing stored.</summary>
    NotFound = 0,

    /// <summary>Stored on the job, which is not waiting for it now: the job's wait for it returns it when it gets there.</summary>
    Delivered = 1,

    /// <summary>Stored, and the job, parked waiting for it, was made pending at once.</summary>
    Resumed = 2,

    /// <summary>The job is finished (succeeded, partial, failed or cancelled): nothing stored.</summary>
    Finished = 3,

    /// <summary>A signal of that name was delivered to the job before: nothing stored (the first one wins).</summary>
    AlreadyDelivered = 4,

    /// <summary>The job's wait for that signal timed out: the signal is not stored (the timeout is, if no worker had recorded it yet).</summary>
    WaitTimedOut = 5,

    /// <summary>
    /// The job's <see cref="NewJob.Deadline"/> has passed by the store's clock: nothing stored. The job fails at the start
    /// of its next attempt without reading its signals, so the signal could never reach its handler.
    /// </summary>
    DeadlinePassed = 6,
}
