namespace Conveyor.Testing;

/// <summary>When a <see cref="ConveyorTestHost"/> runs the jobs a test enqueues.</summary>
public enum ConveyorTestMode
{
    /// <summary>Jobs wait in the in-memory store: the test asserts what was enqueued and runs them with <see cref="ConveyorTestHost.DrainAsync"/>.</summary>
    Manual,

    /// <summary>
    /// An enqueue through <see cref="IJobClient"/> or a publish through <see cref="IEventPublisher"/> returns once every job
    /// that is due has run (jobs the handlers enqueue included). Scheduled jobs and retries run when the test moves
    /// <see cref="ConveyorTestHost.Time"/> past them and drains.
    /// </summary>
    Inline,
}
