using System.Buffers;
using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>Create, read, list, cancel, retry and delete jobs; every store call is scoped to the caller's tenant.</summary>
internal static class JobsEndpoints
{
    /// <summary>What a command that answers with the job (cancel, retry, signal) says of its body in the OpenAPI document.</summary>
    internal const string CommandAnswer = "Answers with the job as GET /jobs lists it: without its payload and without its errors' stack_trace; read the job (GET /jobs/{id}) for those.";

    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapPost("/jobs", CreateAsync).WithName("CreateJob")
            .WithSummary("Enqueue a job")
            .WithDescription("Body: {\"type\": \"note:archive\", \"payload\": {...}} and optional queue, max_retry, timeout_seconds, deadline, process_at, process_in_seconds, unique_key, unique_for_seconds, retention_seconds, after (ids of this tenant's jobs to wait for: the job is WAITING until they finish) and on_dependency_failure (cancel, fail or run when one of them does not succeed). An Idempotency-Key header makes a repeat return the first job.")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        group.MapGet("/jobs/{jobId}", GetAsync).WithName("GetJob").TakesQuery("tenant").WithSummary("A job's status, progress, result and errors")
            .WithDescription("The job with its payload and its errors with their stack traces. A job keeps at most 20 errors: its first and the 19 most recent; errors in between are dropped (their attempt numbers show the gap).")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/jobs", ListAsync).WithName("ListJobs").TakesQuery(ListJobsQueryParser.Parameters)
            .WithSummary("The tenant's jobs (any tenant's, or every tenant's, for an admin key), newest first, filtered by status, type, queue, last error text and created-at range, a page at a time")
            .WithDescription("Each job as GET /jobs/{id} shows it, without its payload and without its errors' stack_trace; read the job for those.")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        BulkJobsEndpoint.Map(group);
        group.MapPost("/jobs/{jobId}/cancel", CancelAsync).WithName("CancelJob").TakesQuery("tenant").WithSummary("Cancel a job; a running job's handler sees its token cancelled")
            .WithDescription(CommandAnswer)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/jobs/{jobId}/retry", RetryAsync).WithName("RetryJob").TakesQuery("tenant").WithSummary("Run a failed, cancelled, scheduled or retrying job again now")
            .WithDescription(CommandAnswer)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        SignalJobEndpoint.Map(group);
        JobStepsEndpoint.Map(group);
        group.MapDelete("/jobs/{jobId}", DeleteAsync).WithName("DeleteJob").TakesQuery("tenant").WithSummary("Delete a job that is not running")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    internal static async Task<Results<Accepted<JobCreatedResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpContext http,
        IJobClient client,
        EnqueueBatcher batcher,
        IJobStore store,
        JobTypeCatalog catalog,
        ServedQueues servedQueues,
        IOptions<ConveyorApiOptions> apiOptions,
        IOptions<ConveyorOptions> coreOptions,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var caller = http.GetConveyorCaller();
        var (body, problem) = await RequestBodyReader.ReadJsonAsync(http.Request, apiOptions.Value.MaxRequestBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return problem!;
        }

        if (!IdempotencyKey.TryRead(http.Request, out var idempotencyKey, out var invalidKey))
        {
            return invalidKey!;
        }

        var request = CreateJobRequestParser.Parse(new ReadOnlySequence<byte>(body), timeProvider.GetUtcNow(), out var error);
        if (request is null)
        {
            return ApiProblems.Invalid(error!.Field, error.Reason);
        }

        if (!JobRequestChecks.TryCheck(request, "", catalog, coreOptions.Value, out var invalid, out var tooLarge))
        {
            return invalid is not null ? invalid : tooLarge!;
        }

        var options = request.Options with
        {
            Tenant = caller.Tenant,
            JobId = idempotencyKey is null ? null : IdempotencyKey.ToJobId(caller.Tenant, idempotencyKey),
        };

        EnqueueResult result;
        try
        {
            result = await batcher.EnqueueAsync(client.CreateJob(request.Type, request.Payload, options), cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            // The client checks the options again (a deadline may pass between the two checks): name the field it means.
            // A store may refuse what the parser let through: a Redis Cluster refuses a job that waits for others when
            // it has a unique key or an id derived from the Idempotency-Key (those keys live on slots of their own).
            var (field, reason) = CreateJobRequestParser.FieldOf(e);
            if (field == "body" && request.Options.After is { Count: > 0 })
            {
                field = request.Options.UniqueKey is not null ? "unique_key" : idempotencyKey is not null ? IdempotencyKey.HeaderName : field;
            }

            return ApiProblems.Invalid(field, reason);
        }

        switch (result.Outcome)
        {
            case EnqueueOutcome.DuplicateId:
                var stored = await store.GetAsync(caller.Tenant, result.JobId, cancellationToken).ConfigureAwait(false);
                if (stored is null || !IdempotencyKey.SameRequest(stored, request, coreOptions.Value.DefaultMaxRetry) || !IdempotencyKey.SameDependencies(stored, request))
                {
                    return ApiProblems.Conflict(
                        "Idempotency-Key reused with a different request.",
                        $"The key '{idempotencyKey}' already created job {result.JobId} with another type, queue, payload, max_retry, after or on_dependency_failure. Use a new key for a new job.");
                }

                http.Response.Headers["Idempotent-Replayed"] = "true";
                return Created(http, stored.Id, stored.State, stored.CreatedAt, await servedQueues.WarningForAsync(stored.Queue).ConfigureAwait(false), request.Options.After);
            case EnqueueOutcome.DuplicateUniqueKey:
                return ApiProblems.Conflict(
                    "Another job holds this unique_key.",
                    $"Job {result.JobId} ({result.State.ToApiStatus()}) holds unique_key '{request.Options.UniqueKey}' until its unique_for_seconds pass or it finishes.");
            case EnqueueOutcome.DependencyNotFound:
                // Another tenant's job reads as no job at all: the answer says nothing of whether it exists.
                return DependencyNotFound(request.Options.After!, result.JobId);
            default:
                return Created(http, result.JobId, result.State, result.CreatedAt, await servedQueues.WarningForAsync(options.Queue ?? QueueName.Default).ConfigureAwait(false), request.Options.After);
        }
    }

    internal static async Task<Results<Ok<JobResponse>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string jobId, HttpContext http, IJobStore store, CancellationToken cancellationToken)
    {
        if (!JobId.IsValid(jobId))
        {
            return InvalidJobId(jobId);
        }

        if (!JobTenantParameter.TryRead(http, out var tenant, out var error))
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        var job = await store.GetAsync(tenant, jobId, cancellationToken).ConfigureAwait(false);
        return job is null ? ApiProblems.JobNotFound(jobId) : TypedResults.Ok(JobResponseMapper.ToResponse(job));
    }

    internal static async Task<Results<Ok<JobListResponse>, ValidationProblem, ProblemHttpResult>> ListAsync(
        HttpContext http, IJobStore store, IOptions<ConveyorApiOptions> apiOptions, CancellationToken cancellationToken)
    {
        var query = ListJobsQueryParser.Parse(http.Request.Query, http.GetConveyorCaller(), apiOptions.Value, out var error);
        if (query is null)
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        var page = await store.ListAsync(query, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new JobListResponse(
            page.Jobs.Select(JobResponseMapper.ToSummaryResponse).ToList(),
            page.NextCursor));
    }

    internal static async Task<Results<Ok<JobResponse>, Accepted<JobResponse>, ValidationProblem, ProblemHttpResult>> CancelAsync(
        string jobId, HttpContext http, IJobStore store, CancellationToken cancellationToken)
    {
        if (!JobId.IsValid(jobId))
        {
            return InvalidJobId(jobId);
        }

        if (!JobTenantParameter.TryRead(http, out var tenant, out var error))
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }
        var outcome = await store.CancelAsync(tenant, jobId, cancellationToken).ConfigureAwait(false);
        var job = await store.GetAsync(tenant, jobId, cancellationToken).ConfigureAwait(false);
        return (outcome, job) switch
        {
            (JobCommandResult.NotFound, _) or (_, null) => ApiProblems.JobNotFound(jobId),
            (JobCommandResult.NotAllowed, _) => ApiProblems.Conflict(
                "The job cannot be cancelled.",
                $"Job {jobId} is {job.State.ToApiStatus()}; only SCHEDULED, QUEUED, RETRYING, WAITING and RUNNING jobs can be cancelled."),
            // A running job is cancelled by its worker, which learns of it at its next lease renewal.
            (JobCommandResult.Requested, _) => TypedResults.Accepted(JobLocation(http), JobResponseMapper.ToSummaryResponse(job)),
            _ => TypedResults.Ok(JobResponseMapper.ToSummaryResponse(job)),
        };
    }

    internal static async Task<Results<Accepted<JobResponse>, ValidationProblem, ProblemHttpResult>> RetryAsync(
        string jobId, HttpContext http, IJobStore store, CancellationToken cancellationToken)
    {
        if (!JobId.IsValid(jobId))
        {
            return InvalidJobId(jobId);
        }

        if (!JobTenantParameter.TryRead(http, out var tenant, out var error))
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }
        var outcome = await store.RequeueAsync(tenant, jobId, cancellationToken).ConfigureAwait(false);
        var job = await store.GetAsync(tenant, jobId, cancellationToken).ConfigureAwait(false);
        return (outcome, job) switch
        {
            (JobCommandResult.NotFound, _) or (_, null) => ApiProblems.JobNotFound(jobId),
            (JobCommandResult.NotAllowed, _) => ApiProblems.Conflict(
                "The job cannot be retried.",
                $"Job {jobId} is {job.State.ToApiStatus()}; only FAILED, CANCELLED, SCHEDULED and RETRYING jobs can be run again."),
            _ => TypedResults.Accepted(JobLocation(http), JobResponseMapper.ToSummaryResponse(job)),
        };
    }

    internal static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAsync(
        string jobId, HttpContext http, IJobStore store, CancellationToken cancellationToken)
    {
        if (!JobId.IsValid(jobId))
        {
            return InvalidJobId(jobId);
        }

        if (!JobTenantParameter.TryRead(http, out var tenant, out var error))
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        var outcome = await store.DeleteAsync(tenant, jobId, cancellationToken).ConfigureAwait(false);
        return outcome switch
        {
            JobCommandResult.NotFound => ApiProblems.JobNotFound(jobId),
            JobCommandResult.NotAllowed => ApiProblems.Conflict(
                "The job cannot be deleted.",
                $"Job {jobId} is RUNNING; cancel it first (POST .../jobs/{jobId}/cancel), then delete it."),
            _ => TypedResults.NoContent(),
        };
    }

    private static Accepted<JobCreatedResponse> Created(HttpContext http, string jobId, JobState state, DateTimeOffset createdAt, string? warning, IReadOnlyList<string>? after) =>
        TypedResults.Accepted(
            $"{http.Request.PathBase}{http.Request.Path.Value!.TrimEnd('/')}/{Uri.EscapeDataString(jobId)}",
            new JobCreatedResponse(jobId, state.ToApiStatus(), Rfc3339.Format(createdAt)) { Warnings = warning is null ? null : [warning], DependsOn = after });

    /// <summary>
    /// A 400 naming the element of <c>after</c> the store found no job for in the caller's tenant: a body field that
    /// names nothing, as a workflow step's <c>after</c> naming no step is, rather than a 404 of the <c>/jobs</c> resource.
    /// </summary>
    private static ValidationProblem DependencyNotFound(IReadOnlyList<string> after, string missing)
    {
        var index = 0;
        while (index < after.Count - 1 && !string.Equals(after[index], missing, StringComparison.Ordinal))
        {
            index++;
        }

        return ApiProblems.Invalid(
            $"{JobDependenciesParser.Field}[{index}]",
            $"there is no job '{missing}' for this API key's tenant to wait for (never created, or deleted since); nothing was stored.");
    }

    private static string JobLocation(HttpContext http)
    {
        // The request path is .../jobs/{id}/cancel or .../jobs/{id}/retry: the job is its parent.
        var path = http.Request.Path.Value!;
        return ResourceLocation.InRequestTenant(http, $"{http.Request.PathBase}{path[..path.LastIndexOf('/')]}");
    }

    internal static ValidationProblem InvalidJobId(string jobId) =>
        ApiProblems.Invalid("job_id", $"'{(jobId.Length <= 80 ? jobId : jobId[..77] + "...")}' is not a job id: 1 to {JobId.MaxLength} letters, digits, '_', '-', ':' or '.', e.g. job_31c8927959d5442e90e3a6bc5a9188ec.");
}
