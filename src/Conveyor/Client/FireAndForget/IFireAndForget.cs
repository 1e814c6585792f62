namespace Conveyor;

/// <summary>
/// Enqueues jobs nobody waits for (analytics events, cleanups, cache warming) without making the caller wait for the
/// store. A call checks the job, puts it in a bounded in-process buffer and returns; one background pump stores what
/// accumulated in batches, one round trip for many calls. Registered by <c>AddFireAndForget()</c>.
/// <para>
/// A call never throws for anything the store does. A store that is down or slow is tried again until it stores the
/// jobs (with the same job ids, so none is stored twice); a job that is given up on (buffer full, refused by the store,
/// still buffered at shutdown) is logged with its job type and the reason and counted in <c>job_fire_and_forget_dropped_total{task_type,queue,reason}</c>. Use <see cref="IJobClient"/> when
/// the caller must know that the job was stored. Once stored, a job is an ordinary job: retries, skip-retry, metrics
/// and logs as usual, and its failures never reach the caller.
/// </para>
/// </summary>
public interface IFireAndForget
{
    /// <summary>
    /// Checks and buffers one job with a typed payload, on <see cref="FireAndForgetOptions.Queue"/> (<c>low</c> by
    /// default) unless <paramref name="options"/> names a queue.
    /// </summary>
    /// <returns>
    /// A completed task, unless the buffer is full and <see cref="FireAndForgetOptions.FullMode"/> is
    /// <see cref="FireAndForgetFullMode.Wait"/>: then it completes when the job is in the buffer, or was dropped after
    /// <see cref="FireAndForgetOptions.FullWaitTimeout"/> or when <paramref name="cancellationToken"/> was cancelled.
    /// It never faults.
    /// </returns>
    /// <exception cref="ArgumentException">The payload or the options are invalid (a programming error; the message names which and why).</exception>
    ValueTask EnqueueAsync<TPayload>(TPayload payload, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TPayload : IJobPayload;

    /// <summary>
    /// Checks and buffers one job of the given type with a raw (JSON) payload; a payload that does not fit the payload
    /// type of the handler registered in this process for <paramref name="jobType"/> is refused at the call.
    /// </summary>
    /// <inheritdoc cref="EnqueueAsync{TPayload}(TPayload, JobOptions?, CancellationToken)"/>
    ValueTask EnqueueAsync(string jobType, ReadOnlyMemory<byte> payload, JobOptions? options = null, CancellationToken cancellationToken = default);
}
