namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LeaseRef>> ListLeasesAsync(string serverId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverId);
        cancellationToken.ThrowIfCancellationRequested();
        var leases = new List<LeaseRef>();
        lock (_gate)
        {
            // The lease index holds exactly the active jobs.
            foreach (var entry in _leases)
            {
                var job = _jobs[entry.JobId];
                if (string.Equals(job.LeaseOwner, serverId, StringComparison.Ordinal))
                {
                    leases.Add(new LeaseRef(job.Id, job.LeaseToken));
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<LeaseRef>>(leases);
    }
}
