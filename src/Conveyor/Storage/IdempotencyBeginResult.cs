namespace Conveyor.Storage;

/// <summary>
/// The answer of <see cref="IJobCoordinationStore.TryBeginIdempotencyKeyAsync"/>: whether the caller may run, and
/// otherwise who holds the key and until when.
/// </summary>
/// <param name="Outcome">What the store found.</param>
/// <param name="JobId">For <see cref="IdempotencyBeginOutcome.AlreadyDone"/> the job that finished the work; for
/// <see cref="IdempotencyBeginOutcome.InProgress"/> the job that holds the key; null when started.</param>
/// <param name="FinishedAt">For <see cref="IdempotencyBeginOutcome.AlreadyDone"/>: when the work was finished.</param>
/// <param name="RetryAfter">For <see cref="IdempotencyBeginOutcome.InProgress"/>: when the holder's record expires unless
/// its lease is extended; the earliest instant at which trying again can start.</param>
public readonly record struct IdempotencyBeginResult(
    IdempotencyBeginOutcome Outcome,
    string? JobId = null,
    DateTimeOffset? FinishedAt = null,
    DateTimeOffset? RetryAfter = null)
{
    /// <summary>The caller's attempt now owns the key.</summary>
    public static IdempotencyBeginResult Started { get; } = new(IdempotencyBeginOutcome.Started);

    /// <summary>The work was done by <paramref name="jobId"/> at <paramref name="finishedAt"/>.</summary>
    public static IdempotencyBeginResult AlreadyDone(string jobId, DateTimeOffset finishedAt) =>
        new(IdempotencyBeginOutcome.AlreadyDone, jobId, finishedAt);

    /// <summary><paramref name="jobId"/> is running the work; its record expires at <paramref name="retryAfter"/>.</summary>
    public static IdempotencyBeginResult InProgress(string jobId, DateTimeOffset retryAfter) =>
        new(IdempotencyBeginOutcome.InProgress, jobId, RetryAfter: retryAfter);
}
