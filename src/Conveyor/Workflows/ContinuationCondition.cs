namespace Conveyor;

/// <summary>When a job that waits for others (<see cref="JobOptions.After"/>, a batch callback) runs.</summary>
public enum ContinuationCondition
{
    /// <summary>Only if what it waits for succeeded (a job: succeeded or partly succeeded; a batch: every job did); otherwise it is cancelled.</summary>
    Succeeded = 0,

    /// <summary>Once what it waits for finished, whatever the outcome (succeeded, failed or cancelled).</summary>
    Finished = 1,

    /// <summary>
    /// Only if what it waits for succeeded, as <see cref="Succeeded"/>; otherwise it <b>fails</b> without running
    /// (state failed, no attempt counted, an error naming the dependency) rather than being cancelled, so it shows among
    /// the failed jobs, in failure alerts, and can be retried by hand. Its own success-only dependants follow by their
    /// own condition.
    /// </summary>
    SucceededElseFail = 2,
}
