namespace Conveyor.Storage;

/// <summary>A job whose lease expired and that the recoverer returned to pending or, out of retries, moved to failed.</summary>
public sealed record RecoveredJob(string JobId, string Type, string Queue, string Tenant, JobState NewState);
