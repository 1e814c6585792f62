namespace Conveyor.Storage;

/// <summary>The words every store puts on a job whose lease expired, so that the API reads the same on each.</summary>
public static class LeaseMessages
{
    /// <summary>
    /// The error of the attempt a job lost when its lease expired and <see cref="IJobQueueStore.RecoverExpiredLeasesAsync"/>
    /// took it back (to pending, or to failed when its attempts are spent or its deadline has passed). Filter on it
    /// (<c>GET /jobs?error=</c>) or alert on it to see the jobs whose worker died or lost the store.
    /// </summary>
    public const string Expired = "The lease expired: the worker that ran the job stopped renewing it (it died or lost the store).";
}
