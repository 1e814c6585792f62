namespace Conveyor.Storage;

/// <summary>A job a worker holds a lease on. Only the holder of <see cref="LeaseToken"/> may acknowledge it.</summary>
public sealed record LeasedJob
{
    /// <summary>The job's id.</summary>
    public required string Id { get; init; }

    /// <summary>The job's type name.</summary>
    public required string Type { get; init; }

    /// <summary>The queue it was taken from.</summary>
    public required string Queue { get; init; }

    /// <summary>The tenant it belongs to.</summary>
    public required string Tenant { get; init; }

    /// <summary>The payload's JSON.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>This attempt's number, starting at 1.</summary>
    public required int Attempt { get; init; }

    /// <summary>How many retries the job has after its first attempt.</summary>
    public required int MaxRetry { get; init; }

    /// <summary>How long one attempt may run, if limited.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>When the job stops being worth running, if it has a deadline.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Identifies this lease; a new one is made at every dequeue.</summary>
    public required long LeaseToken { get; init; }

    /// <summary>When the lease runs out unless extended; after that the job may be recovered.</summary>
    public required DateTimeOffset LeaseExpiresAt { get; init; }

    /// <summary>The W3C trace parent of the enqueue, so the attempt's span joins its trace.</summary>
    public string? TraceParent { get; init; }

    /// <summary>When the job was enqueued.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// When the job became pending (enqueue, promotion or requeue): the start of its wait in the queue. A job that
    /// was recovered or released after a lease waits from then (the time it was leased is no queue wait), though it
    /// keeps its place at the head of the queue.
    /// </summary>
    public required DateTimeOffset EnqueuedAt { get; init; }

    /// <summary>The batch the job is a member of, or null.</summary>
    public string? BatchId { get; init; }
}
