namespace Conveyor.Storage;

/// <summary>
/// Lease up to <see cref="Limit"/> pending jobs in one round trip.
/// </summary>
/// <remarks>
/// The store takes jobs in two passes. First pass: for each entry of <see cref="Queues"/>, in order, up to
/// that entry's limit. Second pass, only if fewer than <see cref="Limit"/> were taken: the remaining slots
/// from the same queues in the same order. So the worker's weighted split is honoured exactly under
/// saturation, and a free slot is never left idle while any listed queue has a job (work conserving).
/// Within a queue, jobs come out in the order they became pending (FIFO). Paused queues are skipped.
/// Each job taken becomes active, its attempt count goes up by one, its started-at becomes now,
/// and it carries a new lease token owned by <see cref="ServerId"/> that expires after <see cref="LeaseDuration"/>.
/// </remarks>
public sealed record DequeueRequest
{
    public required IReadOnlyList<QueueQuota> Queues { get; init; }

    public required int Limit { get; init; }

    public required string ServerId { get; init; }

    public required TimeSpan LeaseDuration { get; init; }
}
