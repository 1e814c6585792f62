namespace Conveyor.Storage;

/// <summary>What a cancel, requeue or delete did.</summary>
public enum JobCommandResult
{
    /// <summary>No such job in that tenant.</summary>
    NotFound = 0,

    /// <summary>Done.</summary>
    Done = 1,

    /// <summary>Cancel of an active job: the request is recorded and reaches the worker that runs it.</summary>
    Requested = 2,

    /// <summary>The job's state does not allow it (cancel a finished job, requeue a running one, delete an active one).</summary>
    NotAllowed = 3,
}
