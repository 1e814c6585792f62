namespace Conveyor;

/// <summary>Where a schedule was defined; it decides what happens to it when the definition goes away.</summary>
public enum ScheduleOrigin
{
    /// <summary>
    /// Created at run time (<see cref="IScheduleClient"/>, the HTTP API): it stays until it is deleted the same way.
    /// </summary>
    Runtime = 0,

    /// <summary>
    /// Defined in code (<c>AddSchedule</c>) or configuration (<c>Conveyor:Schedules</c>) and written at every server's
    /// start. One that is no longer defined anywhere is deleted when a server starts without it.
    /// </summary>
    Code = 1,
}
