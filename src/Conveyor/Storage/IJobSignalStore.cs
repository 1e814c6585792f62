namespace Conveyor.Storage;

/// <summary>
/// Signals: named messages with a payload delivered to one job from outside (the HTTP API, another job), and the wait
/// of a running handler for one of them, which ends its attempt without holding a worker slot. A signal is stored on
/// the job as a durable step named <c>$signal:&lt;name&gt;</c> (<see cref="JobSignal.StepName"/>), so it is read back
/// with the job's steps, goes with the job, and a later attempt sees it as the first one did. Each method is one atomic
/// step of the store, which is what makes a signal delivered while its job parks neither lost nor seen twice.
/// </summary>
public interface IJobSignalStore
{
    /// <summary>
    /// Decides a running handler's wait for any of the signals <paramref name="names"/> (one, or several started together,
    /// awaited with <c>Task.WhenAny</c> or <c>Task.WhenAll</c>), in one atomic step that checks every name, if the job is still active under
    /// <paramref name="leaseToken"/> (<see cref="JobSignalWaitOutcome.LeaseLost"/> otherwise, nothing changed):
    /// <list type="bullet">
    /// <item>a signal of one of the names is stored on the job (the first of <paramref name="names"/>, in their order, that
    /// is): <see cref="JobSignalWaitOutcome.Delivered"/> with its payload (or <see cref="JobSignalWaitOutcome.TimedOut"/>
    /// if an earlier attempt recorded that wait's timeout); the job stays active;</item>
    /// <item>a cancellation was requested: <see cref="JobSignalWaitOutcome.CancelRequested"/>; the job stays active (the
    /// worker acknowledges it as cancelled);</item>
    /// <item><paramref name="until"/> has passed: <see cref="JobSignalWaitOutcome.TimedOut"/>. With
    /// <paramref name="recordTimeout"/> the timeout is recorded on the job (an empty <c>$signal:</c> step, so a later
    /// delivery is refused with <see cref="JobSignalResult.WaitTimedOut"/>); without it nothing is recorded, and the next
    /// attempt's waits each decide their own;</item>
    /// <item>otherwise the job is parked: state scheduled until <paramref name="until"/>, the attempt not counted (nor its
    /// start, as for <see cref="AckOutcome.Snoozed"/>), the lease gone, <paramref name="reason"/> kept as its snooze reason: <see cref="JobSignalWaitOutcome.Parked"/>. A
    /// delivery of any of the signals makes it pending at once; the promoter makes it pending at <paramref name="until"/>.
    /// The reason is a park's (<see cref="JobSignal.WaitReason(IReadOnlyList{string}, DateTimeOffset)"/> of
    /// <paramref name="names"/>): it is what tells a delivery of any of them that the job is parked for it
    /// (<see cref="JobSignal.IsWaitReasonFor"/>); the caller builds it, the store keeps it as given.</item>
    /// </list>
    /// Checking every name in the step that parks is what keeps a signal of any of them, delivered while the attempt ran,
    /// from being stored without resuming the job (a lost wake-up, the job asleep until the earliest deadline).
    /// </summary>
    /// <param name="jobId">The job, active under <paramref name="leaseToken"/>.</param>
    /// <param name="leaseToken">The lease of the attempt that waits.</param>
    /// <param name="names">The signals the handler waits for, in the order it started their waits.</param>
    /// <param name="until">When the park ends: the earliest of the waits' deadlines, or an earlier time the job also waits for.</param>
    /// <param name="recordTimeout">
    /// True when <paramref name="until"/> is the deadline of the wait for the one name in <paramref name="names"/>: once
    /// it has passed, that wait has timed out, and its timeout is recorded. False when it may be no wait's deadline (the
    /// earliest of several waits', which the store cannot tie to one of them; a sleep of the handler or the job's
    /// deadline that comes first): a passed <paramref name="until"/> then decides no wait.
    /// </param>
    /// <param name="reason">The parked job's snooze reason.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="names"/> is empty or holds an invalid signal name, or <paramref name="recordTimeout"/> is true for several names.
    /// </exception>
    ValueTask<JobSignalWait> AwaitSignalAsync(string jobId, long leaseToken, IReadOnlyList<string> names, DateTimeOffset until, bool recordTimeout, string reason, CancellationToken cancellationToken);

    /// <summary>
    /// Delivers signal <paramref name="name"/> with <paramref name="payload"/> (1 byte to <see cref="JobStep.MaxResultBytes"/>,
    /// JSON from the HTTP API) to the tenant's job: stored on the job (<see cref="JobSignalResult.Delivered"/>), and if the
    /// job is parked waiting for it now, made pending at once, at the back of its queue, its snooze reason cleared (it waits
    /// no longer) (<see cref="JobSignalResult.Resumed"/>). Parked for it now is: scheduled, with the wait's step
    /// (<see cref="JobSignal.WaitStepName"/>), and a snooze reason of a park that names it, alone or with other signals
    /// (<see cref="JobSignal.IsWaitReasonFor"/>, byte for byte). A job scheduled for another reason (a snooze, a wait for other signals) keeps its time even when an
    /// earlier attempt's wait step for this signal is on it (that attempt lost its lease before it parked, or the parked
    /// job was requeued): the signal is only stored, for the next attempt's wait.
    /// A job that has not reached its wait keeps the signal until it does. Refused, with nothing changed: another
    /// tenant's or an unknown job (<see cref="JobSignalResult.NotFound"/>), a finished one
    /// (<see cref="JobSignalResult.Finished"/>), one whose <see cref="NewJob.Deadline"/> has passed by the store's clock,
    /// which fails at its next attempt without reading its signals (<see cref="JobSignalResult.DeadlinePassed"/>, before
    /// any of the answers that follow), a signal of that name delivered before
    /// (<see cref="JobSignalResult.AlreadyDelivered"/>: the first one wins) or whose wait timed out
    /// (<see cref="JobSignalResult.WaitTimedOut"/>). A wait whose deadline (its <see cref="JobSignal.WaitStepName"/> step)
    /// has passed by the store's clock has timed out even when no worker has recorded it yet
    /// (<see cref="JobSignal.WaitHasTimedOut"/>): the store then records the timeout, as <see cref="AwaitSignalAsync"/>
    /// would, and refuses the signal with <see cref="JobSignalResult.WaitTimedOut"/>.
    /// </summary>
    ValueTask<JobSignalResult> SignalAsync(string tenant, string jobId, string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}
