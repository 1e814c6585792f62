namespace Conveyor.Storage;

/// <summary>One begin of <see cref="IJobCoordinationStore.TryBeginIdempotencyKeysAsync"/>: the key, the attempt that would own it, and until when.</summary>
public readonly record struct IdempotencyBegin(string Key, LeaseRef Owner, DateTimeOffset ExpiresAt);
