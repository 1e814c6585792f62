using System.Buffers;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.WorkflowsApi.Contracts;
using Conveyor.Workflows;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.WorkflowsApi;

/// <summary>
/// <c>POST /workflows</c>: a DAG of named steps stored all or none by one call of
/// <see cref="IWorkflowClient.StartWorkflowAsync"/>, every step's job in the caller's tenant. The graph is checked by
/// <see cref="WorkflowRequestParser"/> first, so a bad request names its field and stores nothing.
/// </summary>
internal static class CreateWorkflowEndpoint
{
    public static void Map(IEndpointRouteBuilder group) =>
        group.MapPost("/workflows", CreateAsync).WithName("CreateWorkflow").TakesQuery("tenant")
            .WithSummary("Start a workflow: named steps, each a job that starts once the steps it runs after succeeded, stored together or not at all")
            .WithDescription($"Body: {{\"name\": \"monthly-report\", \"steps\": [{{\"name\": \"extract\", \"job\": {{\"type\": ...}}}}, {{\"name\": \"publish\", \"job\": {{...}}, \"after\": [\"extract\"], \"on_dependency_failure\": \"cancel\"|\"fail\"|\"run\"}}], \"retention_seconds\": n}} (1 to {WorkflowRequestParser.MaxSteps} steps, at most {WorkflowRequestParser.MaxDependencies} dependencies over all of them). Unknown or repeated names and cycles are 400s naming the field (steps[3].after[0]). An Idempotency-Key header makes a repeat answer the first workflow.")
            .ProducesStoringProblems();

    internal static async Task<Results<Created<WorkflowCreatedResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpContext http,
        IJobClient client,
        IWorkflowClient workflows,
        ServedQueues servedQueues,
        JobTypeCatalog catalog,
        IOptions<ConveyorApiOptions> apiOptions,
        IOptions<ConveyorOptions> coreOptions,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var (read, refusal) = await IdempotentCreateRequest<WorkflowRequest>.ReadAsync<WorkflowCreatedResponse>(
            http,
            apiOptions.Value.MaxRequestBytes,
            (ReadOnlySequence<byte> body, out ParseError? error) => WorkflowRequestParser.Parse(body, timeProvider.GetUtcNow(), out error),
            cancellationToken).ConfigureAwait(false);
        if (read is null)
        {
            return refusal!;
        }

        var (request, key, tenant) = read;

        var workflowId = key is null ? BatchId.New() : IdempotencyKey.ToBatchId(tenant, key, "workflow");
        var builder = new WorkflowBuilder(request.Name) { WorkflowId = workflowId, Retention = request.Retention };
        var stepOfJob = new Dictionary<string, int>(StringComparer.Ordinal);
        var uniqueKeys = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < request.Steps.Count; i++)
        {
            var step = request.Steps[i];
            var path = $"steps[{i}].job";
            if (JobRequestChecks.RepeatedUniqueKey(step.Job, path, uniqueKeys) is { } repeated)
            {
                return repeated;
            }

            if (!JobRequestChecks.TryCheck(step.Job, path, catalog, coreOptions.Value, out var invalid, out var tooLarge))
            {
                return invalid is not null ? invalid : tooLarge!;
            }

            var jobId = key is null ? null : IdempotencyKey.ToJobId(tenant, key, "step\n" + step.Name);
            if (!JobRequestChecks.TryCreate(client, step.Job, path, tenant, jobId, out var job, out invalid))
            {
                return invalid!;
            }

            stepOfJob[job!.Id] = i;
            builder.Add(step.Name, job, step.After, step.Condition);
        }

        WorkflowEnqueueResult result;
        try
        {
            result = await workflows.StartWorkflowAsync(builder, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            // The key's workflow exists: this is a repeat. Otherwise the parser checked what the library checks, and a
            // refusal here is a rule the two disagree on: say it plainly.
            return key is not null && await workflows.GetBatchAsync(workflowId, tenant, cancellationToken).ConfigureAwait(false) is not null
                ? await ReplayAsync(http, workflows, coreOptions.Value, request, builder, tenant, key, cancellationToken).ConfigureAwait(false)
                : StoreRefused(e, request, key);
        }
        catch (NotSupportedException e)
        {
            return CreateBatchEndpoint.NotAvailable(e);
        }

        if (!result.Created)
        {
            if (key is not null && result.Jobs.Refusal!.Outcome == EnqueueOutcome.DuplicateId)
            {
                return await ReplayAsync(http, workflows, coreOptions.Value, request, builder, tenant, key, cancellationToken).ConfigureAwait(false);
            }

            // The store saw the steps in dependency order: the refused one is found by its job id.
            var stored = WorkflowGraph.Build(builder, workflowId).Jobs;
            var fields = stored.Select(j => $"steps[{stepOfJob[j.Id]}].job").ToList();
            return CreateBatchEndpoint.Refused(result.Jobs, fields, stored);
        }

        return TypedResults.Created(Location(http, workflowId), new WorkflowCreatedResponse
        {
            WorkflowId = workflowId,
            Name = request.Name,
            Status = BatchState.Running.ToApiStatus(),
            Steps = request.Steps.ToDictionary(static s => s.Name, s => result.StepJobIds[s.Name], StringComparer.Ordinal),
            Warnings = await servedQueues.WarningsForAsync(builder.Steps.Select(static s => s.Job.Queue)).ConfigureAwait(false),
        });
    }

    /// <summary>
    /// A 400 for steps the parser let through and the store refuses (a Redis Cluster refuses, in a workflow, a unique key
    /// and an id derived from an Idempotency-Key: those keys live on slots its scripts cannot reach): it names the first
    /// step's unique_key when the store's reason is a unique key, else the header when one was sent, else the steps.
    /// </summary>
    private static ValidationProblem StoreRefused(ArgumentException e, WorkflowRequest request, string? key)
    {
        var reason = e.Message.Split(" (Parameter", 2)[0];
        var withUniqueKey = reason.Contains("unique key", StringComparison.Ordinal) ? request.Steps.ToList().FindIndex(static s => s.Job.Options.UniqueKey is not null) : -1;
        return withUniqueKey >= 0 ? ApiProblems.Invalid($"steps[{withUniqueKey}].job.unique_key", reason)
            : key is not null && reason.Contains("Idempotency-Key", StringComparison.Ordinal) ? ApiProblems.Invalid(IdempotencyKey.HeaderName, reason)
            : ApiProblems.Invalid("steps", reason);
    }

    /// <summary>
    /// A repeat of a request with the same Idempotency-Key: the first workflow's answer when it has the same name and the
    /// same steps (names, dependencies, policies for a failed dependency, and jobs of the same type, queue, payload and
    /// max retry), a 409 otherwise.
    /// </summary>
    private static async Task<Results<Created<WorkflowCreatedResponse>, ValidationProblem, ProblemHttpResult>> ReplayAsync(
        HttpContext http, IWorkflowClient workflows, ConveyorOptions options, WorkflowRequest request, WorkflowBuilder builder, string tenant, string key,
        CancellationToken cancellationToken)
    {
        var workflowId = builder.WorkflowId!;
        var workflow = await workflows.GetWorkflowAsync(workflowId, tenant, cancellationToken).ConfigureAwait(false);
        if (workflow is null)
        {
            return CreateBatchEndpoint.NoLongerKept(key, "workflow", workflowId);
        }

        var storedSteps = workflow.Steps.ToDictionary(static s => s.Name, StringComparer.Ordinal);
        var same = storedSteps.Count == request.Steps.Count
            && string.Equals(workflow.Name, request.Name, StringComparison.Ordinal)
            && request.Steps.Zip(builder.Steps).All(pair =>
                storedSteps.TryGetValue(pair.First.Name, out var stored)
                && stored.JobId == pair.Second.Job.Id
                && stored.After.SequenceEqual(pair.First.After, StringComparer.Ordinal)
                && stored.Job is { } job && IdempotencyKey.SameRequest(job, pair.First.Job, options.DefaultMaxRetry)
                && LinksSay(job, pair.Second.Condition));
        if (!same)
        {
            return ApiProblems.Conflict(
                "Idempotency-Key reused with a different request.",
                $"The key '{key}' already created workflow {workflowId} with another name or other steps, or steps of it have been deleted since. Use a new key for a new workflow.");
        }

        http.Response.Headers["Idempotent-Replayed"] = "true";
        return TypedResults.Created(Location(http, workflowId), new WorkflowCreatedResponse
        {
            WorkflowId = workflowId,
            Name = workflow.Name,
            Status = workflow.State.ToApiStatus(),
            Steps = workflow.Steps.ToDictionary(static s => s.Name, static s => s.JobId, StringComparer.Ordinal),
        });
    }

    /// <summary>True when each of the stored step's links to the steps it runs after says what <paramref name="condition"/> says.</summary>
    private static bool LinksSay(JobInfo job, ContinuationCondition condition)
    {
        var (successOnly, failIfUnmet) = condition switch
        {
            ContinuationCondition.Finished => (false, false),
            ContinuationCondition.SucceededElseFail => (true, true),
            _ => (true, false),
        };
        return job.DependsOn.All(d => d.OnBatch || (d.SuccessOnly == successOnly && d.FailIfUnmet == failIfUnmet));
    }

    private static string Location(HttpContext http, string workflowId) =>
        ResourceLocation.InRequestTenant(http, $"{http.Request.PathBase}{http.Request.Path.Value!.TrimEnd('/')}/{Uri.EscapeDataString(workflowId)}");
}
