using System.Buffers;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.WorkflowsApi.Contracts;
using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.WorkflowsApi;

/// <summary>
/// <c>POST /batches</c>: a batch of jobs with its callbacks, stored all or none by one call of
/// <see cref="IWorkflowClient.StartBatchAsync"/>; <c>POST /batches/{id}/jobs</c>: jobs added to a running batch, all or
/// none (<see cref="IWorkflowClient.AddToBatchAsync"/>). Every job is in the caller's tenant whatever its body says.
/// </summary>
internal static class CreateBatchEndpoint
{
    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapPost("/batches", CreateAsync).WithName("CreateBatch").TakesQuery("tenant")
            .WithSummary("Create a batch: its jobs and its callbacks are stored together or not at all")
            .WithDescription($"Body: {{\"jobs\": [job, ...], \"on_success\": job, \"on_complete\": job, \"retention_seconds\": n}}; each job as POST /jobs takes it (1 to {BatchRequestParser.MaxJobs} jobs). on_success runs once every job succeeded (it is cancelled otherwise), on_complete once every job finished. A refused job refuses the batch: nothing is stored. An Idempotency-Key header makes a repeat answer the first batch.")
            .ProducesStoringProblems();
        group.MapPost("/batches/{batchId}/jobs", AddAsync).WithName("AddBatchJobs").TakesQuery("tenant")
            .WithSummary("Add jobs to a running batch, all or none; its callbacks wait for them too")
            .WithDescription($"Body: {{\"jobs\": [job, ...]}}, each job as POST /jobs takes it (1 to {BatchRequestParser.MaxJobs}). A batch that has finished or was cancelled is a 409.")
            .ProducesStoringProblems(notFound: true);
    }

    internal static async Task<Results<Created<BatchCreatedResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpContext http,
        IJobClient client,
        IWorkflowClient workflows,
        IJobStore store,
        ServedQueues servedQueues,
        JobTypeCatalog catalog,
        IOptions<ConveyorApiOptions> apiOptions,
        IOptions<ConveyorOptions> coreOptions,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var (read, refusal) = await IdempotentCreateRequest<BatchRequest>.ReadAsync<BatchCreatedResponse>(
            http,
            apiOptions.Value.MaxRequestBytes,
            (ReadOnlySequence<byte> body, out ParseError? error) => BatchRequestParser.Parse(body, timeProvider.GetUtcNow(), adding: false, out error),
            cancellationToken).ConfigureAwait(false);
        if (read is null)
        {
            return refusal!;
        }

        var (request, key, tenant) = read;

        var batchId = key is null ? null : IdempotencyKey.ToBatchId(tenant, key, "batch");
        if (!TryBuild(client, catalog, coreOptions.Value, request, tenant, key, out var built, out var invalid, out var tooLarge))
        {
            return invalid is not null ? invalid : tooLarge!;
        }

        BatchEnqueueResult result;
        try
        {
            result = await workflows.StartBatchAsync(
                built.Members,
                new BatchOptions { BatchId = batchId, OnSuccess = built.OnSuccess, OnComplete = built.OnComplete, Retention = request.Retention },
                cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e) when (batchId is not null && e.ParamName == "batch")
        {
            // The key's batch exists: this is a repeat. Every store names the batch in that refusal alone.
            return await ReplayAsync(http, workflows, store, coreOptions.Value, request, built, batchId, tenant, key!, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e) when (e is not (ArgumentNullException or ArgumentOutOfRangeException))
        {
            // A store's refusal of what the request asked for (a Redis Cluster's, of a unique key or an Idempotency-Key);
            // a null or out-of-range argument is a defect of ours, and stays a 500.
            return StoreRefused(e, key, built);
        }
        catch (NotSupportedException e)
        {
            return NotAvailable(e);
        }

        if (!result.Created)
        {
            if (batchId is not null && result.Jobs.Refusal!.Outcome == EnqueueOutcome.DuplicateId)
            {
                return await ReplayAsync(http, workflows, store, coreOptions.Value, request, built, batchId, tenant, key!, cancellationToken).ConfigureAwait(false);
            }

            return Refused(result.Jobs, built.Fields, built.All);
        }

        return TypedResults.Created(Location(http, result.BatchId), built.Response(result.BatchId, BatchState.Running) with
        {
            Warnings = await servedQueues.WarningsForAsync(built.All.Select(static j => j.Queue)).ConfigureAwait(false),
        });
    }

    internal static async Task<Results<Created<BatchCreatedResponse>, ValidationProblem, ProblemHttpResult>> AddAsync(
        string batchId,
        HttpContext http,
        IJobClient client,
        IWorkflowClient workflows,
        IJobStore store,
        ServedQueues servedQueues,
        JobTypeCatalog catalog,
        IOptions<ConveyorApiOptions> apiOptions,
        IOptions<ConveyorOptions> coreOptions,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        if (!WorkflowsEndpoints.TryScope(batchId, "batch_id", http, out var tenant, out var invalid, out var forbidden))
        {
            return invalid is not null ? invalid : forbidden!;
        }

        var (body, problem) = await RequestBodyReader.ReadJsonAsync(http.Request, apiOptions.Value.MaxRequestBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return problem!;
        }

        if (!IdempotencyKey.TryRead(http.Request, out var key, out var invalidKey))
        {
            return invalidKey!;
        }

        var request = BatchRequestParser.Parse(new ReadOnlySequence<byte>(body), timeProvider.GetUtcNow(), adding: true, out var error);
        if (request is null)
        {
            return ApiProblems.Invalid(error!.Field, error.Reason);
        }

        // With a key, the added jobs' ids derive from it and the batch (a key has no line break: no create's ids collide).
        var addKey = key is null ? null : $"{key}\nadded to {batchId}";
        if (!TryBuild(client, catalog, coreOptions.Value, request, tenant, addKey, out var built, out invalid, out var tooLarge))
        {
            return invalid is not null ? invalid : tooLarge!;
        }

        var location = ResourceLocation.InRequestTenant(http, $"{http.Request.PathBase}{http.Request.Path.Value![..http.Request.Path.Value!.TrimEnd('/').LastIndexOf('/')]}");
        EnqueueAllResult result;
        try
        {
            result = await workflows.AddToBatchAsync(batchId, built.Members, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e) when (e is not (ArgumentNullException or ArgumentOutOfRangeException))
        {
            // A store's refusal of what the request asked for (a Redis Cluster's, of a unique key or an Idempotency-Key);
            // a null or out-of-range argument is a defect of ours, and stays a 500.
            return StoreRefused(e, key, built);
        }
        catch (InvalidOperationException)
        {
            // A repeat of an add that was stored, after the batch has finished, still answers the first add.
            if (addKey is not null && await ReplayAddAsync(http, workflows, store, coreOptions.Value, request, built, batchId, tenant, addKey, location, cancellationToken).ConfigureAwait(false) is { } replayed)
            {
                return replayed;
            }

            var batch = await workflows.GetBatchAsync(batchId, tenant, cancellationToken).ConfigureAwait(false);
            return batch is null
                ? WorkflowsEndpoints.NotFound("batch", batchId)
                : ApiProblems.Conflict("The batch is not running.", $"Batch {batchId} is {batch.State.ToApiStatus()}; jobs can be added only to a RUNNING batch.");
        }
        catch (NotSupportedException e)
        {
            return NotAvailable(e);
        }

        if (!result.AllStored)
        {
            if (addKey is not null && result.Refusal!.Outcome == EnqueueOutcome.DuplicateId)
            {
                return await ReplayAddAsync(http, workflows, store, coreOptions.Value, request, built, batchId, tenant, addKey, location, cancellationToken).ConfigureAwait(false)
                    ?? ApiProblems.Conflict(
                        "Idempotency-Key reused with a different request.",
                        $"The key '{key}' already added other jobs to batch {batchId}. Use a new key for a new add.");
            }

            return Refused(result, built.Fields, built.All);
        }

        return TypedResults.Created(location, built.Response(batchId, BatchState.Running) with
        {
            Warnings = await servedQueues.WarningsForAsync(built.All.Select(static j => j.Queue)).ConfigureAwait(false),
        });
    }

    /// <summary>
    /// A repeat of an add with the same Idempotency-Key: the first add's answer when every job of the request is the job
    /// the first add stored in this batch (type, queue, payload, max retry) and the first add had no more; null otherwise.
    /// </summary>
    private static async Task<Results<Created<BatchCreatedResponse>, ValidationProblem, ProblemHttpResult>?> ReplayAddAsync(
        HttpContext http, IWorkflowClient workflows, IJobStore store, ConveyorOptions options, BatchRequest request, BuiltBatch built,
        string batchId, string tenant, string addKey, string location, CancellationToken cancellationToken)
    {
        for (var i = 0; i < request.Jobs.Count; i++)
        {
            var stored = await store.GetAsync(tenant, built.Members[i].Id, cancellationToken).ConfigureAwait(false);
            if (stored is null || stored.BatchId != batchId || !IdempotencyKey.SameRequest(stored, request.Jobs[i], options.DefaultMaxRetry))
            {
                return null;
            }
        }

        if (await store.GetAsync(tenant, IdempotencyKey.ToJobId(tenant, addKey, $"batch\n{request.Jobs.Count}"), cancellationToken).ConfigureAwait(false) is not null
            || await workflows.GetBatchAsync(batchId, tenant, cancellationToken).ConfigureAwait(false) is not { } batch)
        {
            return null;
        }

        http.Response.Headers["Idempotent-Replayed"] = "true";
        return TypedResults.Created(location, built.Response(batchId, batch.State));
    }

    /// <summary>Checks and builds every job of the request, in its tenant; with an idempotency key each job's id derives from it.</summary>
    private static bool TryBuild(
        IJobClient client, JobTypeCatalog catalog, ConveyorOptions options, BatchRequest request, string tenant, string? key,
        out BuiltBatch built, out ValidationProblem? invalid, out ProblemHttpResult? tooLarge)
    {
        built = new BuiltBatch();
        tooLarge = null;
        invalid = null;
        var specs = request.Jobs.Select((job, i) => (Job: job, Field: $"jobs[{i}]", Part: $"batch\n{i}"))
            .Append((Job: request.OnSuccess!, Field: "on_success", Part: "batch\non_success"))
            .Append((Job: request.OnComplete!, Field: "on_complete", Part: "batch\non_complete"));
        var uniqueKeys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (job, field, part) in specs)
        {
            if (job is null)
            {
                continue;
            }

            if (JobRequestChecks.RepeatedUniqueKey(job, field, uniqueKeys) is { } repeated)
            {
                invalid = repeated;
                return false;
            }

            if (!JobRequestChecks.TryCheck(job, field, catalog, options, out invalid, out tooLarge)
                || !JobRequestChecks.TryCreate(client, job, field, tenant, key is null ? null : IdempotencyKey.ToJobId(tenant, key, part), out var newJob, out invalid))
            {
                return false;
            }

            built.Add(field, newJob!);
        }

        return true;
    }

    /// <summary>
    /// A repeat of a request with the same Idempotency-Key: the first batch's answer when every job of the request is the
    /// job the first request stored (type, queue, payload, max retry), a 409 otherwise.
    /// </summary>
    private static async Task<Results<Created<BatchCreatedResponse>, ValidationProblem, ProblemHttpResult>> ReplayAsync(
        HttpContext http, IWorkflowClient workflows, IJobStore store, ConveyorOptions options, BatchRequest request, BuiltBatch built,
        string batchId, string tenant, string key, CancellationToken cancellationToken)
    {
        var batch = await workflows.GetBatchAsync(batchId, tenant, cancellationToken).ConfigureAwait(false);
        if (batch is null)
        {
            return NoLongerKept(key, "batch", batchId);
        }

        // The first request had no more jobs than this one: its next job would have had this id.
        var same = batch.Workflow is null
            && await store.GetAsync(tenant, IdempotencyKey.ToJobId(tenant, key, $"batch\n{request.Jobs.Count}"), cancellationToken).ConfigureAwait(false) is null;
        var requests = request.Jobs.Append(request.OnSuccess).Append(request.OnComplete).Where(static r => r is not null).ToList();
        string? deleted = null;
        for (var i = 0; same && i < built.All.Count; i++)
        {
            var stored = await store.GetAsync(tenant, built.All[i].Id, cancellationToken).ConfigureAwait(false);
            deleted = stored is null ? built.All[i].Id : null;
            same = stored is not null && IdempotencyKey.SameRequest(stored, requests[i]!, options.DefaultMaxRetry);
        }

        foreach (var (callback, part) in new (CreateJobRequest?, string)[] { (request.OnSuccess, "on_success"), (request.OnComplete, "on_complete") })
        {
            // A callback the first request had and this one has not.
            if (same && callback is null)
            {
                same = await store.GetAsync(tenant, IdempotencyKey.ToJobId(tenant, key, "batch\n" + part), cancellationToken).ConfigureAwait(false) is null;
            }
        }

        if (!same)
        {
            // A job this request names but the store lacks: the first request had other jobs, or it was deleted since
            // (a repeat cannot tell which), so say both rather than blame the request.
            return ApiProblems.Conflict(
                "Idempotency-Key reused with a different request.",
                deleted is null
                    ? $"The key '{key}' already created batch {batchId} with other jobs. Use a new key for a new batch."
                    : $"The key '{key}' already created batch {batchId}, and job {deleted} of this request is not in it: the first request had other jobs, or that job has been deleted since. Use a new key for a new batch, or to create this one again.");
        }

        http.Response.Headers["Idempotent-Replayed"] = "true";
        return TypedResults.Created(Location(http, batchId), built.Response(batchId, batch!.State));
    }

    /// <summary>
    /// A 400 for jobs the parser let through and the store refuses to store together (a Redis Cluster refuses, in a
    /// batch, a unique key and an id derived from an Idempotency-Key: those keys live on slots its scripts cannot reach).
    /// It names the first job's unique_key, else the header, else the jobs, with the store's reason; nothing was stored.
    /// </summary>
    private static ValidationProblem StoreRefused(ArgumentException e, string? key, BuiltBatch built)
    {
        var reason = e.Message.Split(" (Parameter", 2)[0];
        var withUniqueKey = built.All.FindIndex(static j => j.UniqueKey is not null);
        return withUniqueKey >= 0 ? ApiProblems.Invalid($"{built.Fields[withUniqueKey]}.unique_key", reason)
            : key is not null ? ApiProblems.Invalid(IdempotencyKey.HeaderName, reason)
            : ApiProblems.Invalid("jobs", reason);
    }

    /// <summary>A 409 for a repeat whose batch or workflow has been purged (its retention passed) while jobs of it remain.</summary>
    internal static ProblemHttpResult NoLongerKept(string key, string kind, string id) => ApiProblems.Conflict(
        "Idempotency-Key reused after its " + kind + " expired.",
        $"The key '{key}' created {kind} {id}, which is no longer kept (its retention passed) though jobs of it remain. Use a new key for a new {kind}.");

    /// <summary>A 409 naming the job the store refused (its id or unique key is held) and the job that holds it.</summary>
    internal static ProblemHttpResult Refused(EnqueueAllResult result, IReadOnlyList<string> fields, IReadOnlyList<NewJob> jobs)
    {
        var refusal = result.Refusal!;
        var index = result.RefusedIndex;
        var field = index < fields.Count ? fields[index] : "body";
        var job = index < jobs.Count ? jobs[index] : null;
        return refusal.Outcome switch
        {
            EnqueueOutcome.DuplicateUniqueKey => ApiProblems.Conflict(
                "Another job holds this unique_key.",
                $"{field}: job {refusal.JobId} ({refusal.State.ToApiStatus()}) holds unique_key '{job?.UniqueKey}'; nothing was stored."),
            _ => ApiProblems.Conflict(
                "A job of the request was refused.",
                $"{field}: refused ({refusal.Outcome}, job {refusal.JobId}); nothing was stored."),
        };
    }

    internal static ProblemHttpResult NotAvailable(NotSupportedException e) => TypedResults.Problem(
        statusCode: StatusCodes.Status501NotImplemented,
        title: "This store does not support batches.",
        detail: e.Message);

    private static string Location(HttpContext http, string batchId) =>
        ResourceLocation.InRequestTenant(http, $"{http.Request.PathBase}{http.Request.Path.Value!.TrimEnd('/')}/{Uri.EscapeDataString(batchId)}");

    /// <summary>The jobs of a request as built, with the body field of each (for the 409 that names a refused one).</summary>
    private sealed class BuiltBatch
    {
        private readonly List<string> _memberIds = [];

        public List<NewJob> Members { get; } = [];

        public NewJob? OnSuccess { get; private set; }

        public NewJob? OnComplete { get; private set; }

        /// <summary>Every job in the order the store sees them: members, then the success and complete callbacks.</summary>
        public List<NewJob> All { get; } = [];

        public List<string> Fields { get; } = [];

        public void Add(string field, NewJob job)
        {
            switch (field)
            {
                case "on_success":
                    OnSuccess = job;
                    break;
                case "on_complete":
                    OnComplete = job;
                    break;
                default:
                    Members.Add(job);
                    _memberIds.Add(job.Id);
                    break;
            }

            All.Add(job);
            Fields.Add(field);
        }

        public BatchCreatedResponse Response(string batchId, BatchState state) => new()
        {
            BatchId = batchId,
            Status = state.ToApiStatus(),
            JobIds = _memberIds,
            OnSuccessJobId = OnSuccess?.Id,
            OnCompleteJobId = OnComplete?.Id,
        };
    }
}
