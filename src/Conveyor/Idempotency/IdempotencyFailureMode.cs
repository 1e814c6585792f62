namespace Conveyor;

/// <summary>What an idempotent handler's job does when the idempotency record cannot be read or written (the store is unreachable).</summary>
public enum IdempotencyFailureMode
{
    /// <summary>Run the handler anyway and log a warning: availability over the rare duplicate effect (the default).</summary>
    FailOpen = 0,

    /// <summary>Do not run it now: the job is snoozed (no attempt counted) and tried again a few seconds later.</summary>
    FailClosed = 1,
}
