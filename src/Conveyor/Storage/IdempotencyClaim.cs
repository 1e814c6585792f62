namespace Conveyor.Storage;

/// <summary>An idempotency key held in <c>processing</c> by one attempt: the key and the lease of the attempt that owns it.</summary>
public readonly record struct IdempotencyClaim(string Key, LeaseRef Owner);
