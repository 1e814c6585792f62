namespace Conveyor;

/// <summary>Where a batch is in its life.</summary>
public enum BatchState
{
    /// <summary>Some of its jobs have not finished; jobs may still be added.</summary>
    Running = 0,

    /// <summary>Every job finished and every one succeeded (or partly succeeded): the success callbacks were released.</summary>
    Succeeded = 1,

    /// <summary>Every job finished, and at least one failed or was cancelled: only the complete callbacks ran.</summary>
    Completed = 2,

    /// <summary>
    /// Cancelled as a whole: its unfinished jobs were cancelled (running ones at the end of their attempt); its complete
    /// callbacks still run once every job has finished.
    /// </summary>
    Cancelled = 3,
}
