namespace Conveyor.Storage;

/// <summary>At most <paramref name="Limit"/> jobs from queue <paramref name="Queue"/> in one dequeue's first pass.</summary>
public readonly record struct QueueQuota(string Queue, int Limit);
