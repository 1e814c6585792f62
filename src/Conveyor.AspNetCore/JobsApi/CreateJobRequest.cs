namespace Conveyor.AspNetCore.JobsApi;

/// <summary>A <c>POST /jobs</c> body that passed validation: the job type, its payload (compact JSON) and options.</summary>
internal sealed record CreateJobRequest(string Type, ReadOnlyMemory<byte> Payload, JobOptions Options);
