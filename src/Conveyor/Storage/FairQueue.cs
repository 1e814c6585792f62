namespace Conveyor.Storage;

/// <summary>
/// A queue whose pending jobs a dequeue takes in turns between tenants (<see cref="DequeueRequest.FairQueues"/>), with
/// the turn starting after <paramref name="LastTenant"/>: the tenant of the last job this caller took from the queue
/// ("" to start from the first tenant).
/// </summary>
public readonly record struct FairQueue(string Queue, string LastTenant);
