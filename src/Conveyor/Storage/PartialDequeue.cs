using System.Collections;

namespace Conveyor.Storage;

/// <summary>
/// What <see cref="IJobQueueStore.DequeueAsync"/> may return when the store reached some of the request's queues and not
/// the others (a Redis Cluster whose primary of those queues is away): the jobs leased from the queues that answered, as a
/// list, and why the others did not. A caller that reads it as any list holds every job leased. The calls that failed may
/// have leased jobs all the same, their answer lost (a frozen node runs a queued call when it resumes), so the server
/// looks for such leases of its own as after a dequeue that failed; it backs off only when a dequeue fails whole.
/// </summary>
public sealed class PartialDequeue : IReadOnlyList<LeasedJob>
{
    private readonly IReadOnlyList<LeasedJob> _jobs;

    /// <summary>The jobs leased, and the failure of the queues that did not answer.</summary>
    public PartialDequeue(IReadOnlyList<LeasedJob> jobs, JobStoreUnavailableException failure)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        ArgumentNullException.ThrowIfNull(failure);
        _jobs = jobs;
        Failure = failure;
    }

    /// <summary>Why some queues did not answer (the first failure, when several did not).</summary>
    public JobStoreUnavailableException Failure { get; }

    /// <inheritdoc />
    public int Count => _jobs.Count;

    /// <inheritdoc />
    public LeasedJob this[int index] => _jobs[index];

    /// <inheritdoc />
    public IEnumerator<LeasedJob> GetEnumerator() => _jobs.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
