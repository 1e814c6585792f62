namespace Conveyor.Storage;

/// <summary>
/// A Conveyor store: one class that implements the eight roles. Every store (in-memory, SQLite, Redis,
/// PostgreSQL) passes the same conformance suite. Implementations create their schema on first use and are
/// safe to call from many threads (and, except the in-memory store, from many processes).
/// </summary>
public interface IJobStore : IJobQueueStore, IJobQueryStore, IJobCoordinationStore, IScheduleStore, IWorkflowStore, IJobStepStore, IJobSignalStore, ILimitStore
{
    /// <summary>A short name for logs and the server banner ("sqlite", "redis", "postgres", "memory").</summary>
    string Name { get; }

    /// <summary>
    /// Creates the schema if needed and checks that the store answers. Throws <see cref="JobStoreUnavailableException"/>
    /// for what may pass (the server retries it for its store start timeout) and any other exception for what waiting
    /// cannot heal (the server stops at once).
    /// </summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken);
}
