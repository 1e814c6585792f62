namespace Conveyor.Storage;

/// <summary>A job a worker holds a lease on. Only the holder of <see cref="LeaseToken"/> may acknowledge it.</summary>
public sealed record LeasedJob
{
    public required string Id { get; init; }

    public required string Type { get; init; }

    public required string Queue { get; init; }

    public required string Tenant { get; init; }

    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>This attempt's number, starting at 1.</summary>
    public required int Attempt { get; init; }

    public required int MaxRetry { get; init; }

    public TimeSpan? Timeout { get; init; }

    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Identifies this lease; a new one is made at every dequeue.</summary>
    public required long LeaseToken { get; init; }

    public required DateTimeOffset LeaseExpiresAt { get; init; }

    public string? TraceParent { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// When the job became pending (enqueue, promotion or requeue): the start of its wait in the queue. A job that
    /// was recovered or released after a lease keeps the time it had then, with its place at the head of the queue.
    /// </summary>
    public required DateTimeOffset EnqueuedAt { get; init; }
}
