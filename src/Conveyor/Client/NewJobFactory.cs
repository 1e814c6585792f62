using Conveyor.Storage;
using Conveyor.Workflows;
using Microsoft.Extensions.Options;

namespace Conveyor.Client;

/// <summary>
/// Checks a job's type, payload and options, and builds its stored form with every default applied. Shared by
/// <see cref="JobClient"/> and the fire-and-forget path, which checks at the caller's call and builds later, in its
/// pump, against the same moment.
/// </summary>
internal sealed class NewJobFactory(IOptions<ConveyorOptions> options)
{
    private readonly ConveyorOptions _options = options.Value;

    /// <summary>Throws an <see cref="ArgumentException"/> naming what is wrong; writes nothing.</summary>
    public void EnsureValid(string jobType, ReadOnlyMemory<byte> payload, JobOptions options, DateTimeOffset now)
    {
        JobType.EnsureValid(jobType, nameof(jobType));
        if (payload.Length > _options.MaxPayloadBytes)
        {
            throw new ArgumentException(
                $"The payload of job type '{jobType}' is {payload.Length} bytes; the limit (Conveyor:MaxPayloadBytes) is {_options.MaxPayloadBytes}.",
                nameof(payload));
        }

        JobOptionsValidator.Validate(options, now);
    }

    /// <summary>
    /// The stored form of a job checked by <see cref="EnsureValid"/> against the same <paramref name="now"/>; its id is
    /// <paramref name="jobId"/>, else the options' id, else a new one.
    /// </summary>
    public NewJob Build(string jobType, ReadOnlyMemory<byte> payload, JobOptions options, DateTimeOffset now, string? traceParent, string? jobId = null)
    {
        var processAt = options.ProcessAt ?? (options.ProcessIn is { } delay ? now + delay : null);
        var typeRetention = _options.Retention.JobTypes.GetValueOrDefault(jobType);
        return new NewJob
        {
            Id = jobId ?? options.JobId ?? JobId.New(),
            Type = jobType,
            Queue = options.Queue ?? QueueName.Default,
            Tenant = options.Tenant ?? TenantId.Default,
            Payload = payload,
            MaxRetry = options.MaxRetry ?? _options.DefaultMaxRetry,
            Timeout = options.Timeout,
            Deadline = options.Deadline,
            ProcessAt = processAt,
            UniqueKey = options.UniqueKey,
            UniqueUntil = options.UniqueKey is null ? null : now + options.UniqueFor!.Value,
            Retention = options.SucceededRetention ?? options.Retention ?? typeRetention?.Succeeded ?? _options.Retention.Succeeded,
            FailedRetention = options.FailedRetention ?? options.Retention ?? typeRetention?.Failed ?? _options.Retention.Failed,
            CancelledRetention = options.CancelledRetention ?? options.Retention ?? typeRetention?.Cancelled ?? _options.Retention.Cancelled,
            TraceParent = traceParent,
            DependsOn = options.After is { Count: > 0 } after
                ? after.Select(id => options.AfterCondition.ToDependency(id)).ToArray()
                : [],
        };
    }
}
