namespace Conveyor;

/// <summary>
/// What a schedule does with ticks that were missed because no server ran (or every server was busy for longer than
/// <see cref="JobServerOptions.ScheduleMisfireThreshold"/>) when they were due.
/// </summary>
public enum MisfirePolicy
{
    /// <summary>One catch-up run, for the latest missed tick, then on from the next tick. The default.</summary>
    Once = 0,

    /// <summary>No catch-up run: the schedule goes on from its next tick.</summary>
    Skip = 1,

    /// <summary>
    /// One run per missed tick, oldest first, at most <see cref="JobServerOptions.ScheduleMaxCatchUpRuns"/> (the most
    /// recent ones when more were missed).
    /// </summary>
    All = 2,
}
