using Conveyor.Storage;

namespace Conveyor;

/// <summary>A snapshot of a job as the store holds it.</summary>
public sealed record JobInfo
{
    /// <summary>The job's id.</summary>
    public required string Id { get; init; }

    /// <summary><c>{domain}:{action}</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The queue the job is in.</summary>
    public required string Queue { get; init; }

    /// <summary>The tenant the job belongs to.</summary>
    public required string Tenant { get; init; }

    /// <summary>Where the job is in its life.</summary>
    public required JobState State { get; init; }

    /// <summary>The payload as enqueued (JSON in practice).</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>Attempts started so far (a release at shutdown does not count).</summary>
    public int Attempts { get; init; }

    /// <summary>Retries allowed after the first attempt; the job runs at most <c>MaxRetry + 1</c> times.</summary>
    public int MaxRetry { get; init; }

    /// <summary>Longest one attempt may run; null for no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Moment after which the job must not run any more; null for none.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>When the job becomes (or became) due: its process-at time, the end of its retry backoff, or the time of a manual retry.</summary>
    public DateTimeOffset? ScheduledAt { get; init; }

    /// <summary>The uniqueness key the job was enqueued with, if any.</summary>
    public string? UniqueKey { get; init; }

    /// <summary>How long the job is kept once finished.</summary>
    public TimeSpan Retention { get; init; }

    /// <summary>0–100, as reported by the handler in the current attempt; 0 again when a job goes back to the queue (recovered, released or retried).</summary>
    public int Progress { get; init; }

    /// <summary>The result the handler stored (JSON), once it succeeded.</summary>
    public ReadOnlyMemory<byte>? Result { get; init; }

    /// <summary>Where the handler put a result too large to store on the job, if it did.</summary>
    public string? ResultUrl { get; init; }

    /// <summary>The errors of failed attempts and of failed items, oldest first.</summary>
    public IReadOnlyList<JobError> Errors { get; init; } = [];

    /// <summary>W3C traceparent of the code that enqueued the job.</summary>
    public string? TraceParent { get; init; }

    /// <summary>When the job was enqueued.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the job last changed.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>
    /// When its latest attempt started (a worker leased it); null until one has. A lease handed back without its attempt
    /// counting (<see cref="AckOutcome.Released"/>, <see cref="AckOutcome.Snoozed"/>, a park waiting for a
    /// signal) takes its start back with it when no attempt is left, so a job whose <see cref="Attempts"/> is 0 has none.
    /// After an attempt that counted, such a hand-back leaves the start of the lease it hands back: no store keeps the
    /// earlier start.
    /// </summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it finished (succeeded, partly succeeded, failed or was cancelled).</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>
    /// Why the job was last snoozed (handed back to wait until <see cref="ScheduledAt"/> without counting an attempt,
    /// e.g. no server that handles its type took it); null when it never was, and cleared when a later attempt ends or,
    /// for a wait for a signal, when the signal resumes the job.
    /// </summary>
    public string? SnoozeReason { get; init; }

    /// <summary>True when the job is active and a cancellation has been requested for it.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>
    /// The jobs (and batches) this job waited or waits for, in the order given at enqueue: a continuation reads its
    /// parent's result through <see cref="IJobClient.GetJobAsync(string, string, CancellationToken)"/> with these ids.
    /// </summary>
    public IReadOnlyList<JobDependency> DependsOn { get; init; } = [];

    /// <summary>The batch the job belongs to, or null.</summary>
    public string? BatchId { get; init; }
}
