using Conveyor.AspNetCore.JobsApi;

namespace Conveyor.AspNetCore.WorkflowsApi;

/// <summary>A <c>POST /batches</c> (or <c>POST /batches/{id}/jobs</c>) body that passed validation: the jobs, the callbacks and the batch's retention.</summary>
internal sealed record BatchRequest(IReadOnlyList<CreateJobRequest> Jobs, CreateJobRequest? OnSuccess, CreateJobRequest? OnComplete, TimeSpan? Retention);
