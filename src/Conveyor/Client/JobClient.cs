using System.Diagnostics;
using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage;

namespace Conveyor.Client;

/// <summary>Validates options, applies defaults, records the producer span and writes to the store.</summary>
internal sealed class JobClient(
    IJobStore store,
    JobPayloadSerializer serializer,
    NewJobFactory jobFactory,
    ConveyorMetrics metrics,
    JobReadySignal readySignal,
    PromotionAlarm alarm,
    TimeProvider timeProvider) : IJobClient
{
    public Task<EnqueueResult> EnqueueAsync<TPayload>(TPayload payload, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TPayload : IJobPayload
    {
        ArgumentNullException.ThrowIfNull(payload);
        return EnqueueAsync(BuildJob(TPayload.JobType, serializer.Serialize(payload), options), cancellationToken);
    }

    public Task<EnqueueResult> EnqueueAsync(string jobType, ReadOnlyMemory<byte> payload, JobOptions? options = null, CancellationToken cancellationToken = default) =>
        EnqueueAsync(BuildJob(jobType, payload, options), cancellationToken);

    public Task<IReadOnlyList<EnqueueResult>> EnqueueManyAsync<TPayload>(IEnumerable<TPayload> payloads, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TPayload : IJobPayload
    {
        ArgumentNullException.ThrowIfNull(payloads);
        return EnqueueManyAsync(payloads.Select(p => CreateJob(p, options)).ToList(), cancellationToken);
    }

    public async Task<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (jobs.Count == 0)
        {
            return [];
        }

        IReadOnlyList<EnqueueResult> results;
        using (var activity = EnqueueTracing.StartBatchPublish(jobs))
        {
            jobs = EnqueueTracing.WithBatchContext(activity, jobs);
            results = await store.EnqueueManyAsync(jobs, cancellationToken).ConfigureAwait(false);
        }

        for (var i = 0; i < results.Count; i++)
        {
            if (!results[i].IsDuplicate)
            {
                metrics.JobEnqueued(jobs[i].Type, jobs[i].Queue);
            }
        }

        readySignal.Set();
        alarm.RingForStored(jobs, results, timeProvider.GetUtcNow());
        return results;
    }

    public NewJob CreateJob<TPayload>(TPayload payload, JobOptions? options = null)
        where TPayload : IJobPayload
    {
        ArgumentNullException.ThrowIfNull(payload);
        return CreateJob(TPayload.JobType, serializer.Serialize(payload), options);
    }

    public NewJob CreateJob(string jobType, ReadOnlyMemory<byte> payload, JobOptions? options = null)
    {
        var job = BuildJob(jobType, payload, options);

        // A job built here may be stored later and elsewhere (a batch, the HTTP batcher's loop, the caller's own
        // transaction): its creation span is started now, in the caller's trace, and its context travels with the job.
        return job with { TraceParent = EnqueueTracing.RecordCreation(job) ?? job.TraceParent };
    }

    private NewJob BuildJob(string jobType, ReadOnlyMemory<byte> payload, JobOptions? options)
    {
        options ??= new JobOptions();
        var now = timeProvider.GetUtcNow();
        jobFactory.EnsureValid(jobType, payload, options, now);
        return jobFactory.Build(jobType, payload, options, now, Activity.Current?.Id);
    }

    public async Task<JobInfo?> GetJobAsync(string jobId, string tenant, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        // A read: a tenant stored before '.' and '..' were refused stays readable.
        if (!TenantId.IsStored(tenant))
        {
            throw new ArgumentException($"'{tenant}' is not a tenant id: use 1 to {TenantId.MaxLength} letters, digits, '_', '-' or '.'.", nameof(tenant));
        }

        // An id no job can have (it often comes from a URL) is simply not found; the stores never see it.
        if (!JobId.IsValid(jobId))
        {
            return null;
        }

        return await store.GetAsync(tenant, jobId, cancellationToken).ConfigureAwait(false);
    }

    private async Task<EnqueueResult> EnqueueAsync(NewJob job, CancellationToken cancellationToken)
    {
        EnqueueResult result;
        using (var activity = EnqueueTracing.StartPublish(job))
        {
            if (activity is not null)
            {
                // One message: the send span is its creation context (no separate create span).
                job = job with { TraceParent = activity.Id };
            }

            result = await store.EnqueueAsync(job, cancellationToken).ConfigureAwait(false);
        }

        if (!result.IsDuplicate)
        {
            metrics.JobEnqueued(job.Type, job.Queue);
            readySignal.Set();
            if (result.State == JobState.Scheduled)
            {
                alarm.RingForStored([job], [result], timeProvider.GetUtcNow());
            }
        }

        return result;
    }
}
