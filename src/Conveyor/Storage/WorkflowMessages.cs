namespace Conveyor.Storage;

/// <summary>The words every store puts on a job its dependency or its batch's cancel ended, so that the API reads the same on each.</summary>
public static class WorkflowMessages
{
    /// <summary>The error line of a job cancelled because a job or batch it waited for (success only) did not succeed.</summary>
    public static string DependencyDidNotSucceed(string dependencyId) =>
        $"Cancelled without running: '{dependencyId}', which it waited for, did not succeed.";

    /// <summary>The error line of a job failed because a job or batch it waited for (<see cref="JobDependency.FailIfUnmet"/>) did not succeed.</summary>
    public static string DependencyFailed(string dependencyId) =>
        $"Failed without running: '{dependencyId}', which it waited for, did not succeed.";

    /// <summary>
    /// The error line of a member that was not running (waiting, scheduled, queued, retrying, or parked between
    /// durable steps) when its batch or workflow was cancelled as a whole (<see cref="IWorkflowStore.CancelBatchAsync"/>).
    /// It does not say "without running": a retrying or parked member has run already.
    /// </summary>
    public static string BatchCancelled(string batchId) =>
        $"Cancelled: its batch '{batchId}' was cancelled.";
}
