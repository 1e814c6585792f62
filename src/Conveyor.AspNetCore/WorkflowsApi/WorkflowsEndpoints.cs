using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.WorkflowsApi.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.WorkflowsApi;

/// <summary>Batches and workflows: list, read, cancel; every store call is scoped to the caller's tenant (an admin key may name one with <c>?tenant=</c>).</summary>
internal static class WorkflowsEndpoints
{
    public static void Map(IEndpointRouteBuilder group)
    {
        CreateBatchEndpoint.Map(group);
        CreateWorkflowEndpoint.Map(group);
        group.MapGet("/batches", ListBatchesAsync).WithName("ListBatches").TakesQuery(ListBatchesQueryParser.Parameters)
            .WithSummary("The tenant's batches, workflows among them (an admin key names another tenant, or every tenant with ?tenant=*), newest first, filtered by status, a page at a time")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        group.MapGet("/batches/{batchId}", GetBatchAsync).WithName("GetBatch").TakesQuery("tenant")
            .WithSummary("A batch's status, counts by outcome and progress")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/batches/{batchId}/cancel", CancelBatchAsync).WithName("CancelBatch").TakesQuery("tenant")
            .WithSummary("Cancel a running batch or workflow: its jobs that are not running (not started, waiting to retry, parked between steps) are cancelled, running ones asked to stop; its complete callback still runs, its success callback does not")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/workflows", ListWorkflowsAsync).WithName("ListWorkflows").TakesQuery(ListBatchesQueryParser.Parameters)
            .WithSummary("The tenant's workflows (an admin key names another tenant, or every tenant with ?tenant=*), newest first, filtered by status, a page at a time")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        group.MapGet("/workflows/{workflowId}", GetWorkflowAsync).WithName("GetWorkflow").TakesQuery("tenant")
            .WithSummary("A workflow's status and each step's name, job, status and dependencies")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
    }

    internal static async Task<Results<Ok<BatchListResponse>, ValidationProblem, ProblemHttpResult>> ListBatchesAsync(
        HttpContext http, IWorkflowClient workflows, IOptions<ConveyorApiOptions> apiOptions, CancellationToken cancellationToken)
    {
        var query = ListBatchesQueryParser.Parse(http.Request.Query, http.GetConveyorCaller(), apiOptions.Value, workflowsOnly: false, out var error);
        if (query is null)
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        var page = await workflows.ListBatchesAsync(query, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new BatchListResponse([.. page.Batches.Select(ToResponse)], BatchListCursor.FromStore(page.NextCursor)));
    }

    internal static async Task<Results<Ok<WorkflowListResponse>, ValidationProblem, ProblemHttpResult>> ListWorkflowsAsync(
        HttpContext http, IWorkflowClient workflows, IOptions<ConveyorApiOptions> apiOptions, CancellationToken cancellationToken)
    {
        var query = ListBatchesQueryParser.Parse(http.Request.Query, http.GetConveyorCaller(), apiOptions.Value, workflowsOnly: true, out var error);
        if (query is null)
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        var page = await workflows.ListBatchesAsync(query, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new WorkflowListResponse(
            [.. page.Batches.Select(static b => new WorkflowSummaryResponse
            {
                WorkflowId = b.Id,
                Name = b.Workflow?.Name,
                Status = b.State.ToApiStatus(),
                Steps = b.Workflow?.Steps.Count ?? 0,
                Batch = ToResponse(b),
            })],
            BatchListCursor.FromStore(page.NextCursor)));
    }

    internal static async Task<Results<Ok<BatchResponse>, ValidationProblem, ProblemHttpResult>> GetBatchAsync(
        string batchId, HttpContext http, IWorkflowClient workflows, CancellationToken cancellationToken)
    {
        if (!TryScope(batchId, "batch_id", http, out var tenant, out var invalid, out var forbidden))
        {
            return invalid is not null ? invalid : forbidden!;
        }

        var batch = await workflows.GetBatchAsync(batchId, tenant, cancellationToken).ConfigureAwait(false);
        return batch is null ? NotFound("batch", batchId) : TypedResults.Ok(ToResponse(batch));
    }

    internal static async Task<Results<Ok<BatchResponse>, ValidationProblem, ProblemHttpResult>> CancelBatchAsync(
        string batchId, HttpContext http, IWorkflowClient workflows, CancellationToken cancellationToken)
    {
        if (!TryScope(batchId, "batch_id", http, out var tenant, out var invalid, out var forbidden))
        {
            return invalid is not null ? invalid : forbidden!;
        }

        var cancelled = await workflows.CancelBatchAsync(batchId, tenant, cancellationToken).ConfigureAwait(false);
        var batch = await workflows.GetBatchAsync(batchId, tenant, cancellationToken).ConfigureAwait(false);
        return (cancelled, batch) switch
        {
            (_, null) => NotFound("batch", batchId),
            (false, _) => ApiProblems.Conflict(
                "The batch cannot be cancelled.",
                $"Batch {batchId} is {batch.State.ToApiStatus()}; only a RUNNING batch can be cancelled."),
            _ => TypedResults.Ok(ToResponse(batch)),
        };
    }

    internal static async Task<Results<Ok<WorkflowResponse>, ValidationProblem, ProblemHttpResult>> GetWorkflowAsync(
        string workflowId, HttpContext http, IWorkflowClient workflows, CancellationToken cancellationToken)
    {
        if (!TryScope(workflowId, "workflow_id", http, out var tenant, out var invalid, out var forbidden))
        {
            return invalid is not null ? invalid : forbidden!;
        }

        var workflow = await workflows.GetWorkflowAsync(workflowId, tenant, cancellationToken).ConfigureAwait(false);
        if (workflow is null)
        {
            return NotFound("workflow", workflowId);
        }

        return TypedResults.Ok(new WorkflowResponse
        {
            WorkflowId = workflow.Id,
            Name = workflow.Name,
            Status = workflow.State.ToApiStatus(),
            Batch = ToResponse(workflow.Batch),
            Steps = workflow.Steps.Select(static s => new WorkflowStepResponse
            {
                Name = s.Name,
                JobId = s.JobId,
                Status = s.Job?.State.ToApiStatus(),
                After = s.After,
                Type = s.Job?.Type,
                Attempts = s.Job?.Attempts ?? 0,
                StartedAt = s.Job?.StartedAt is { } started ? Rfc3339.Format(started) : null,
                CompletedAt = s.Job?.CompletedAt is { } completed ? Rfc3339.Format(completed) : null,
            }).ToList(),
            AddedJobs = workflow.AddedJobs.Select(static j => new WorkflowAddedJobResponse { JobId = j.Id, Status = j.State.ToApiStatus(), Type = j.Type }).ToList(),
        });
    }

    internal static BatchResponse ToResponse(BatchInfo batch) => new()
    {
        BatchId = batch.Id,
        Tenant = batch.Tenant,
        Status = batch.State.ToApiStatus(),
        Total = batch.Total,
        Succeeded = batch.Succeeded,
        Failed = batch.Failed,
        Cancelled = batch.Cancelled,
        Unfinished = batch.Unfinished,
        Progress = batch.Progress,
        WorkflowName = batch.Workflow?.Name,
        IsWorkflow = batch.Workflow is not null,
        CreatedAt = Rfc3339.Format(batch.CreatedAt),
        UpdatedAt = Rfc3339.Format(batch.UpdatedAt),
        FinishedAt = batch.FinishedAt is { } finished ? Rfc3339.Format(finished) : null,
    };

    /// <summary>The tenant to act in; false with a 400 for a malformed id or tenant parameter, a 403 for a tenant the key may not act in.</summary>
    internal static bool TryScope(string id, string field, HttpContext http, out string tenant, out ValidationProblem? invalid, out ProblemHttpResult? forbidden)
    {
        invalid = null;
        forbidden = null;
        tenant = "";
        if (!BatchId.IsValid(id))
        {
            invalid = ApiProblems.Invalid(field, $"'{(id.Length <= 80 ? id : id[..77] + "...")}' is not a {field[..^3]} id: 'batch_' and 32 lowercase hex digits, e.g. batch_31c8927959d5442e90e3a6bc5a9188ec.");
            return false;
        }

        return TryTenant(http, out tenant, out invalid, out forbidden);
    }

    /// <summary>The tenant to act in (the key's, or the one an admin key names with <c>?tenant=</c>); false with a 400 or a 403.</summary>
    internal static bool TryTenant(HttpContext http, out string tenant, out ValidationProblem? invalid, out ProblemHttpResult? forbidden)
    {
        invalid = null;
        forbidden = null;
        if (JobTenantParameter.TryRead(http, out tenant, out var error))
        {
            return true;
        }

        if (error!.Forbidden)
        {
            forbidden = ApiProblems.ForbiddenTenant(error.Field, error.Reason);
        }
        else
        {
            invalid = ApiProblems.Invalid(error.Field, error.Reason);
        }

        return false;
    }

    internal static ProblemHttpResult NotFound(string kind, string id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: $"No such {kind}.",
        detail: $"There is no {kind} '{id}' in this tenant (the API key's, or the one ?tenant= names).");
}
