namespace Conveyor;

/// <summary>What a server does with a job it leased whose type it has no handler for (<see cref="JobServerOptions.UnknownJobTypes"/>).</summary>
public enum UnknownJobTypeAction
{
    /// <summary>
    /// Hand it back to wait (a snooze: no attempt counted, no error, the reason on the job) so that a server that
    /// handles the type can run it. The wait starts at <see cref="JobServerOptions.UnknownJobTypeDelay"/> and grows
    /// with the time the job has waited, up to <see cref="JobServerOptions.UnknownJobTypeMaxDelay"/>.
    /// </summary>
    Snooze = 0,

    /// <summary>Fail it for good at once with an <see cref="UnknownJobTypeException"/>, as before Conveyor had snoozes.</summary>
    Fail = 1,
}
