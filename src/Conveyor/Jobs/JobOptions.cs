namespace Conveyor;

/// <summary>How one job is to be run. Every property is optional; null means "the default".</summary>
public sealed record JobOptions
{
    /// <summary>Queue name; <see cref="QueueName.Default"/> when null.</summary>
    public string? Queue { get; init; }

    /// <summary>Retries after the first attempt (0 = run once). Default <see cref="ConveyorOptions.DefaultMaxRetry"/>.</summary>
    public int? MaxRetry { get; init; }

    /// <summary>Longest one attempt may run; the handler's token is cancelled when it passes.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Moment after which the job must not run; a running handler's token is cancelled then.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Run no earlier than this moment.</summary>
    public DateTimeOffset? ProcessAt { get; init; }

    /// <summary>Run no earlier than this long from now. Ignored when <see cref="ProcessAt"/> is set.</summary>
    public TimeSpan? ProcessIn { get; init; }

    /// <summary>
    /// A key that makes the job unique within its tenant: while another unfinished job holds the key and
    /// its <see cref="UniqueFor"/> has not passed, a new enqueue with the key is refused as a duplicate. 1 to 256
    /// characters, any but U+0000.
    /// </summary>
    public string? UniqueKey { get; init; }

    /// <summary>How long <see cref="UniqueKey"/> holds. Required with a unique key.</summary>
    public TimeSpan? UniqueFor { get; init; }

    /// <summary>
    /// How long the job is kept after it finishes, whatever the outcome (unless one of the outcome's own settings
    /// is set). Default by outcome: <see cref="ConveyorOptions.Retention"/>.
    /// </summary>
    public TimeSpan? Retention { get; init; }

    /// <summary>How long the job is kept after it succeeds. Default <see cref="Retention"/>, then <c>Conveyor:Retention:Succeeded</c> (1 hour).</summary>
    public TimeSpan? SucceededRetention { get; init; }

    /// <summary>How long the job is kept after it fails or partly succeeds. Default <see cref="Retention"/>, then <c>Conveyor:Retention:Failed</c> (7 days).</summary>
    public TimeSpan? FailedRetention { get; init; }

    /// <summary>How long the job is kept after it is cancelled. Default <see cref="Retention"/>, then <c>Conveyor:Retention:Cancelled</c> (1 day).</summary>
    public TimeSpan? CancelledRetention { get; init; }

    /// <summary>An explicit job id (letters, digits, '_', '-', ':', '.'); a new <c>job_…</c> id when null.</summary>
    public string? JobId { get; init; }

    /// <summary>The tenant the job belongs to; <see cref="Conveyor.TenantId.Default"/> when null.</summary>
    public string? Tenant { get; init; }

    /// <summary>
    /// Ids of jobs of the same tenant this job waits for (a continuation): it is stored waiting (status
    /// <c>WAITING</c>, invisible to workers) and becomes due when the last of them finishes, as
    /// <see cref="AfterCondition"/> says. At most 100. A job that already finished counts at once; an id the tenant has no
    /// job with refuses the enqueue (<see cref="EnqueueOutcome.DependencyNotFound"/>).
    /// </summary>
    public IReadOnlyList<string>? After { get; init; }

    /// <summary>
    /// With <see cref="After"/>: run only if every one of those jobs succeeded, else be cancelled
    /// (<see cref="ContinuationCondition.Succeeded"/>, the default), or else fail
    /// (<see cref="ContinuationCondition.SucceededElseFail"/>), or run once they finished whatever the outcome
    /// (<see cref="ContinuationCondition.Finished"/>).
    /// </summary>
    public ContinuationCondition AfterCondition { get; init; }
}
