namespace Conveyor.Storage;

/// <summary>
/// What clients and workers do to jobs. Every method is one atomic step per job (a Lua script, one SQL
/// statement or transaction) and takes its time from the store's <see cref="TimeProvider"/>.
/// Transport failures surface as <see cref="JobStoreUnavailableException"/>.
/// </summary>
public interface IJobQueueStore
{
    /// <summary>
    /// Stores one job: scheduled if <see cref="NewJob.ProcessAt"/> is in the future, pending otherwise.
    /// Refused with <see cref="EnqueueOutcome.DuplicateId"/> if the id exists, or with
    /// <see cref="EnqueueOutcome.DuplicateUniqueKey"/> if an unfinished job of the tenant holds the unique key
    /// and its unique-until has not passed; a refused job writes nothing.
    /// </summary>
    ValueTask<EnqueueResult> EnqueueAsync(NewJob job, CancellationToken cancellationToken);

    /// <summary>Stores many jobs in one round trip; one result per job, in order. Each job is refused or stored on its own.</summary>
    ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken);

    /// <summary>
    /// Stores every job of the list or none of them, in one atomic step of the store (one transaction, one script):
    /// for the jobs of a fan-out, which must all exist or none. A job refused as <see cref="EnqueueAsync"/> would
    /// refuse it (its id exists, or an unfinished job of its tenant holds its unique key), or because an earlier job
    /// of the same list has its id or unique key, refuses the whole list: nothing is written and the result names a
    /// refused job (the first the store found) and its holder. A transport failure, at any point, throws
    /// <see cref="JobStoreUnavailableException"/> and leaves nothing written. Pending jobs wake waiting workers as
    /// an enqueue does. An empty list stores nothing and is <see cref="EnqueueAllResult.AllStored"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The jobs cannot be stored in one atomic step by this store (a Redis Cluster
    /// store says which queues and why; see docs/redis.md).</exception>
    ValueTask<EnqueueAllResult> EnqueueAllOrNoneAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken);

    /// <summary>
    /// Leases pending jobs as <see cref="DequeueRequest"/> describes. Returns an empty list when none is ready. A store
    /// whose queues live on separate nodes may return a <see cref="PartialDequeue"/> when some queues answered and the
    /// others were unavailable; it throws <see cref="JobStoreUnavailableException"/> when none answered.
    /// </summary>
    ValueTask<IReadOnlyList<LeasedJob>> DequeueAsync(DequeueRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Ends attempts. Each acknowledgement applies only if its job is still active under its lease token;
    /// returns how many applied.
    /// </summary>
    ValueTask<int> AcknowledgeManyAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, CancellationToken cancellationToken);

    /// <summary>
    /// Ends attempts as <see cref="AcknowledgeManyAsync"/> does and, when they released waiting jobs (a continuation, a
    /// batch's callback, a workflow step whose last dependency finished), leases pending jobs as <paramref name="next"/>
    /// describes in the same atomic step, for the acknowledging server to start at once: a released job then waits for no
    /// wake-up and no dequeue of its own. Acknowledgements that release nothing lease nothing. Released jobs left pending
    /// wake waiting workers as any pending job does (a store may also wake them for those it leased). A store that cannot
    /// do both in one step acknowledges only and returns no jobs (the default).
    /// </summary>
    async ValueTask<AcknowledgeResult> AcknowledgeAndTakeReleasedAsync(IReadOnlyList<JobAcknowledgement> acknowledgements, DequeueRequest next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        return new(await AcknowledgeManyAsync(acknowledgements, cancellationToken).ConfigureAwait(false), []);
    }

    /// <summary>Extends the leases still held under their tokens; reports the lost ones and those with a cancellation request.</summary>
    ValueTask<LeaseExtension> ExtendLeasesAsync(ExtendLeasesRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// The leases <paramref name="serverId"/> holds: its active jobs, each with the token of the call that leased it, in no
    /// particular order; an expired lease not yet recovered is one of them. A server asks for its own after a call that
    /// takes leases (<see cref="DequeueAsync"/>, <see cref="AcknowledgeAndTakeReleasedAsync"/>) failed, since the store
    /// may have applied it all the same (its reply lost in an outage): the leases it never heard of are handed back
    /// (<see cref="AckOutcome.Released"/>) rather than left to expire with their attempts counted. Reads only the
    /// active jobs, a set as small as the jobs running.
    /// </summary>
    ValueTask<IReadOnlyList<LeaseRef>> ListLeasesAsync(string serverId, CancellationToken cancellationToken);

    /// <summary>
    /// Takes up to <paramref name="limit"/> active jobs whose lease expired before now. Each gets an error
    /// (<see cref="LeaseMessages.Expired"/>, the same text on every store) and goes back to pending, its attempt counted,
    /// or to failed when its attempts are spent (<c>Attempts &gt; MaxRetry</c>) or its deadline has passed (at or before
    /// now), or to cancelled when its cancellation had been requested. A job back to pending has progress 0 and goes
    /// to the head of its queue, where it was when it was leased: it runs next, not after the backlog that arrived while
    /// it ran. Its wait starts again now (<see cref="LeasedJob.EnqueuedAt"/>, the queue's
    /// <see cref="QueueStats.OldestPendingSince"/>): the time its dead attempt held the lease is no queue wait. Jobs
    /// recovered together keep the order they had in the queue.
    /// </summary>
    ValueTask<IReadOnlyList<RecoveredJob>> RecoverExpiredLeasesAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Moves up to <paramref name="limit"/> scheduled and retrying jobs that are due to pending; returns how many.</summary>
    ValueTask<int> PromoteDueAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// The times at which scheduled and retrying jobs become due after <paramref name="after"/> and before
    /// <paramref name="before"/>, each rounded up to a whole multiple of <paramref name="resolution"/> (counted from the
    /// Unix epoch), earliest first and each once: at most <paramref name="limit"/> of them. The promoter asks at each tick
    /// for those due before its next one and promotes the jobs at those times rather than up to a tick late. A store
    /// that cannot say answers none (this default): its jobs are promoted at the promoter's ticks.
    /// </summary>
    ValueTask<IReadOnlyList<DateTimeOffset>> ListDueTimesAsync(DateTimeOffset after, DateTimeOffset before, TimeSpan resolution, int limit, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<DateTimeOffset>>([]);

    /// <summary>Records a running job's progress (0–100) if it is still active under the token; false otherwise.</summary>
    ValueTask<bool> ReportProgressAsync(string jobId, long leaseToken, int progress, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="limit"/> finished jobs whose retention has passed, and expired
    /// idempotency records and locks; returns how many jobs were deleted.
    /// </summary>
    ValueTask<int> PurgeExpiredAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="limit"/> of the queue's oldest finished jobs (by completion time; jobs that
    /// finished in the same instant in any order) beyond the newest <paramref name="keepSucceeded"/> succeeded jobs and
    /// beyond the newest <paramref name="keepFailed"/> failed, partially successful and cancelled jobs (together); a
    /// null count leaves that outcome uncapped. Unfinished jobs and other queues are never touched. Returns how many
    /// jobs were deleted.
    /// </summary>
    /// <remarks>
    /// The count cap of <see cref="ConveyorRetentionOptions.MaxSucceededPerQueue"/>; age retention
    /// (<see cref="PurgeExpiredAsync"/>) applies as well, so a job leaves at whichever comes first. A call costs at
    /// most in proportion to the kept count and the limit, never to the number of jobs beyond them.
    /// </remarks>
    ValueTask<int> TrimFinishedAsync(string queue, int? keepSucceeded, int? keepFailed, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// How many jobs the janitor asks <see cref="PurgeExpiredAsync"/> and <see cref="TrimFinishedAsync"/> to delete per
    /// call: small enough that one delete never holds the store's writers for long. Default 1,000.
    /// </summary>
    int PurgeBatchSize => 1000;

    /// <summary>
    /// Completes when a job may have become ready (an enqueue, promotion or release seen by this store
    /// instance, or a notification from another process where the store has one), or after
    /// <paramref name="timeout"/>. Returns true when woken by a signal. Used by idle workers instead of a sleep.
    /// A signal that came after this instance's last dequeue began and before this call counts: the call returns at
    /// once, so a job made ready while a dequeue ran is not left for the timeout.
    /// Cancelling <paramref name="cancellationToken"/> ends the wait at once with false, without throwing: the server
    /// cancels the wait that lost its race against its own process's signal at nearly every wake-up, and an exception
    /// each time was about a hundred a second on a server at 100 jobs/s. A timeout does not throw either.
    /// </summary>
    ValueTask<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken cancellationToken);
}
