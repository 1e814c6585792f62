namespace Conveyor.Storage;

/// <summary>How <see cref="IJobSignalStore.AwaitSignalAsync"/> decided a wait.</summary>
public enum JobSignalWaitOutcome
{
    /// <summary>The job is not active under that lease: nothing changed, and the attempt must record nothing.</summary>
    LeaseLost = 0,

    /// <summary>The job is parked (scheduled until the wait's deadline, attempt not counted): the attempt is over.</summary>
    Parked = 1,

    /// <summary>A signal the wait is for is on the job (the first of the names, in their order): its payload is in <see cref="JobSignalWait.Payload"/>; the job is still active.</summary>
    Delivered = 2,

    /// <summary>
    /// The wait's deadline passed without a signal, or an earlier attempt recorded the timeout of the first name found; the
    /// timeout is recorded on the job only for a wait of one name. The job is still active.
    /// </summary>
    TimedOut = 3,

    /// <summary>A cancellation of the job was requested: not parked, still active, to be acknowledged as cancelled.</summary>
    CancelRequested = 4,
}

/// <summary>The answer of <see cref="IJobSignalStore.AwaitSignalAsync"/>.</summary>
/// <param name="Outcome">What the store decided.</param>
/// <param name="Payload">For <see cref="JobSignalWaitOutcome.Delivered"/>, the signal's payload as delivered; empty otherwise.</param>
public readonly record struct JobSignalWait(JobSignalWaitOutcome Outcome, ReadOnlyMemory<byte> Payload = default);
