namespace Conveyor.Storage;

/// <summary>A lease a worker holds: the job and the token of the dequeue that leased it.</summary>
public readonly record struct LeaseRef(string JobId, long LeaseToken);
