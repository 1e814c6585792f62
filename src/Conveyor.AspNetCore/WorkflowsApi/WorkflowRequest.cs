using Conveyor.AspNetCore.JobsApi;

namespace Conveyor.AspNetCore.WorkflowsApi;

/// <summary>A <c>POST /workflows</c> body that passed validation: names, dependencies and the graph are checked.</summary>
internal sealed record WorkflowRequest(string? Name, IReadOnlyList<WorkflowStepRequest> Steps, TimeSpan? Retention);

/// <summary>One step of a <see cref="WorkflowRequest"/>.</summary>
internal sealed record WorkflowStepRequest(string Name, CreateJobRequest Job, IReadOnlyList<string> After, ContinuationCondition Condition);
