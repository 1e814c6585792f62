using Conveyor.Storage;

namespace Conveyor.Testing;

/// <summary>The client of <see cref="ConveyorTestMode.Inline"/>: each enqueue returns once the host has run what is due.</summary>
internal sealed class InlineJobClient(IJobClient inner, ConveyorTestHost host) : IJobClient
{
    public async Task<EnqueueResult> EnqueueAsync<TPayload>(TPayload payload, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TPayload : IJobPayload
    {
        var result = await inner.EnqueueAsync(payload, options, cancellationToken).ConfigureAwait(false);
        await host.RunInlineAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    public async Task<EnqueueResult> EnqueueAsync(string jobType, ReadOnlyMemory<byte> payload, JobOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = await inner.EnqueueAsync(jobType, payload, options, cancellationToken).ConfigureAwait(false);
        await host.RunInlineAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    public async Task<IReadOnlyList<EnqueueResult>> EnqueueManyAsync<TPayload>(IEnumerable<TPayload> payloads, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TPayload : IJobPayload
    {
        var results = await inner.EnqueueManyAsync(payloads, options, cancellationToken).ConfigureAwait(false);
        await host.RunInlineAsync(cancellationToken).ConfigureAwait(false);
        return results;
    }

    public async Task<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        var results = await inner.EnqueueManyAsync(jobs, cancellationToken).ConfigureAwait(false);
        await host.RunInlineAsync(cancellationToken).ConfigureAwait(false);
        return results;
    }

    public NewJob CreateJob<TPayload>(TPayload payload, JobOptions? options = null)
        where TPayload : IJobPayload => inner.CreateJob(payload, options);

    public NewJob CreateJob(string jobType, ReadOnlyMemory<byte> payload, JobOptions? options = null) => inner.CreateJob(jobType, payload, options);

    public Task<JobInfo?> GetJobAsync(string jobId, string tenant, CancellationToken cancellationToken = default) => inner.GetJobAsync(jobId, tenant, cancellationToken);
}
