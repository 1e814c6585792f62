using Conveyor.Storage;

namespace Conveyor.Workflows;

/// <summary>DAG workflows: a batch whose members are named steps with dependencies among them.</summary>
internal sealed partial class WorkflowClient
{
    public async Task<WorkflowEnqueueResult> StartWorkflowAsync(WorkflowBuilder workflow, CancellationToken cancellationToken = default)
    {
        var plan = BatchPlan.ForWorkflow(workflow);
        var stored = plan.Jobs;
        using var send = StartSend(ref stored);
        var result = await store.CreateBatchAsync(plan.Batch, stored, cancellationToken).ConfigureAwait(false);
        Stored(stored, result);
        return new WorkflowEnqueueResult(plan.Batch.Id, result, plan.StepJobIds!);
    }

    /// <summary>The batch <see cref="StartWorkflowAsync"/> stores (<see cref="BatchPlan.ForWorkflow"/>).</summary>
    internal static (NewBatch Batch, IReadOnlyList<NewJob> Jobs) PrepareWorkflow(WorkflowBuilder workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var workflowId = workflow.WorkflowId ?? BatchId.New();
        if (!BatchId.IsValid(workflowId))
        {
            throw new ArgumentException($"'{workflowId}' is not a workflow id: use BatchId.New() ('batch_' and 32 lowercase hex digits).", nameof(workflow));
        }

        if (workflow.Retention is { } retention && retention <= TimeSpan.Zero)
        {
            throw new ArgumentException("WorkflowBuilder.Retention must be positive.", nameof(workflow));
        }

        var (jobs, definition) = WorkflowGraph.Build(workflow, workflowId);
        var batch = new NewBatch
        {
            Id = workflowId,
            Tenant = jobs[0].Tenant,
            Retention = workflow.Retention ?? DefaultBatchRetention,
            Workflow = definition,
        };
        return (batch, jobs);
    }

    public async Task<WorkflowInfo?> GetWorkflowAsync(string workflowId, string tenant, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workflowId);
        EnsureTenant(tenant);
        if (!BatchId.IsValid(workflowId)
            || await store.GetBatchAsync(workflowId, tenant, cancellationToken).ConfigureAwait(false) is not { Workflow: { } definition } batch)
        {
            return null;
        }

        // The members in pages of the largest size: one query per thousand steps.
        var jobs = new Dictionary<string, JobInfo>(StringComparer.Ordinal);
        string? cursor = null;
        do
        {
            var page = await store.ListAsync(new JobQuery { Tenant = tenant, BatchId = workflowId, Limit = JobQuery.MaxLimit, Cursor = cursor }, cancellationToken)
                .ConfigureAwait(false);
            foreach (var job in page.Jobs)
            {
                jobs[job.Id] = job;
            }

            cursor = page.NextCursor;
        }
        while (cursor is not null);

        var defined = definition.Steps.Select(s => s.JobId).ToHashSet(StringComparer.Ordinal);
        return new WorkflowInfo
        {
            Id = batch.Id,
            Name = definition.Name,
            Batch = batch,
            Steps = definition.Steps
                .Select(s => new WorkflowStepInfo { Name = s.Name, JobId = s.JobId, After = s.After, Job = jobs.GetValueOrDefault(s.JobId) })
                .ToList(),
            AddedJobs = jobs.Values
                .Where(j => !defined.Contains(j.Id))
                .OrderBy(j => j.CreatedAt)
                .ThenBy(j => j.Id, StringComparer.Ordinal)
                .ToList(),
        };
    }
}
