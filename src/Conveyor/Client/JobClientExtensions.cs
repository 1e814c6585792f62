namespace Conveyor;

/// <summary>
/// The seed's queue helpers (enqueue straight to the critical, default or low queue), and reading a job of the
/// default tenant.
/// </summary>
public static class JobClientExtensions
{
    /// <summary>Enqueues to the critical queue (weight 6): work a user is waiting for.</summary>
    public static Task<EnqueueResult> EnqueueCriticalAsync<TPayload>(this IJobClient client, TPayload payload, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TPayload : IJobPayload =>
        EnqueueToAsync(client, QueueName.Critical, payload, options, cancellationToken);

    /// <summary>Enqueues to the default queue (weight 3): most jobs.</summary>
    public static Task<EnqueueResult> EnqueueDefaultAsync<TPayload>(this IJobClient client, TPayload payload, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TPayload : IJobPayload =>
        EnqueueToAsync(client, QueueName.Default, payload, options, cancellationToken);

    /// <summary>Enqueues to the low queue (weight 1): background work nobody waits for.</summary>
    public static Task<EnqueueResult> EnqueueLowAsync<TPayload>(this IJobClient client, TPayload payload, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TPayload : IJobPayload =>
        EnqueueToAsync(client, QueueName.Low, payload, options, cancellationToken);

    /// <summary>The job with this id in the default tenant (jobs enqueued without a tenant), or null if there is none.</summary>
    public static Task<JobInfo?> GetJobAsync(this IJobClient client, string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.GetJobAsync(jobId, TenantId.Default, cancellationToken);
    }

    private static Task<EnqueueResult> EnqueueToAsync<TPayload>(IJobClient client, string queue, TPayload payload, JobOptions? options, CancellationToken cancellationToken)
        where TPayload : IJobPayload
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.EnqueueAsync(payload, (options ?? new JobOptions()) with { Queue = queue }, cancellationToken);
    }
}
