using System.Diagnostics;
using Conveyor.Diagnostics;
using Microsoft.Extensions.Options;

namespace Conveyor.Client.FireAndForget;

/// <summary>
/// The caller's side of fire-and-forget: checks the job exactly as <see cref="IJobClient"/> would (an invalid payload
/// or option throws here, at the call), takes the payload's bytes and the caller's trace context, and hands the call to
/// the buffer. The job id and the stored record are made later by the pump, off the caller's path.
/// </summary>
internal sealed class FireAndForgetClient(
    FireAndForgetBuffer buffer,
    NewJobFactory jobFactory,
    JobPayloadSerializer serializer,
    IJobPayloadValidator payloadValidator,
    IOptions<FireAndForgetOptions> options,
    TimeProvider timeProvider) : IFireAndForget
{
    private static readonly JobOptions NoOptions = new();
    private readonly string _defaultQueue = options.Value.Queue;

    public ValueTask EnqueueAsync<TPayload>(TPayload payload, JobOptions? options = null, CancellationToken cancellationToken = default)
        where TPayload : IJobPayload
    {
        ArgumentNullException.ThrowIfNull(payload);
        return WriteAsync(TPayload.JobType, serializer.Serialize(payload), options, cancellationToken);
    }

    public ValueTask EnqueueAsync(string jobType, ReadOnlyMemory<byte> payload, JobOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobType);
        JobType.EnsureValid(jobType, nameof(jobType));
        if (payloadValidator.Validate(jobType, payload) is { } problem)
        {
            throw new ArgumentException($"The payload of job type '{jobType}' does not fit its payload type: {problem.Path} {problem.Message}", nameof(payload));
        }

        return WriteAsync(jobType, payload, options, cancellationToken);
    }

    private ValueTask WriteAsync(string jobType, ReadOnlyMemory<byte> payload, JobOptions? options, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        jobFactory.EnsureValid(jobType, payload, options ?? NoOptions, now);
        var queue = options?.Queue ?? _defaultQueue;

        // With a tracer listening, the job's creation span is recorded now, in the caller's trace (as CreateJob does),
        // and names the id the pump will store the job under. Without one, nothing is allocated for tracing.
        string? jobId = null;
        var traceParent = Activity.Current?.Id;
        if (ConveyorActivitySource.Source.HasListeners())
        {
            jobId = options?.JobId ?? JobId.New();
            traceParent = EnqueueTracing.RecordCreation(jobId, jobType, queue) ?? traceParent;
        }

        return buffer.WriteAsync(new FireAndForgetCall(jobType, payload, options, queue, now, traceParent, jobId), cancellationToken);
    }
}
