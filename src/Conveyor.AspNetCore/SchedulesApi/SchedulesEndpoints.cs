using System.Buffers;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.AspNetCore.SchedulesApi.Contracts;
using Conveyor.Scheduling;
using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.SchedulesApi;

/// <summary>
/// List, read, create, replace, delete, pause, resume and trigger schedules; every call is scoped to the caller's
/// tenant, so another tenant's schedule answers as one that does not exist. An admin key names another tenant with
/// <c>?tenant=</c> (and lists every tenant's with <c>*</c>), as for jobs: schedules defined in code or configuration
/// (source <c>code</c>) are the default tenant's, so an operator whose key has a tenant of its own finds them there. They
/// are written again at every server start: they can be paused, resumed and triggered here, but not replaced or
/// deleted (409), which a restart would undo.
/// </summary>
internal static class SchedulesEndpoints
{
    /// <summary>How many times a PUT goes between replace and create while others delete and create the schedule.</summary>
    private const int MaxPutTurns = 5;

    public static void Map(IEndpointRouteBuilder group)
    {
        var schedules = group.MapGroup("/schedules");
        schedules.MapGet("", ListAsync).WithName("ListSchedules").TakesQuery(ListSchedulesQueryParser.Parameters)
            .WithSummary("The tenant's schedules by name (an admin key names another tenant, or every tenant with ?tenant=*), a page at a time, with their next ticks and last job")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        schedules.MapGet("/{name}", GetAsync).WithName("GetSchedule").TakesQuery("tenant")
            .WithSummary("A schedule: its definition, next ticks, last tick and last job")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPost("", CreateAsync).WithName("CreateSchedule")
            .WithSummary("Create a schedule; its first tick is the first after now")
            .WithDescription("Body: {\"name\": \"report:nightly\", \"cron\": \"30 2 * * *\", \"job_type\": \"report:generate\"} and optional time_zone (UTC), payload, queue, max_retry, timeout_seconds, misfire, overlap, paused. 409 when the tenant has a schedule of that name.")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        schedules.MapPut("/{name}", PutAsync).WithName("PutSchedule")
            .WithSummary("Create the schedule (201) or replace its definition (200), keeping its pause state and history")
            .WithDescription("The body of POST /schedules, without name (or with the same one). A replace keeps the next tick unless cron or time_zone changed; paused applies only when the schedule is created. 409 for a schedule defined in code or configuration, or one that other requests kept deleting and creating while this one wrote it (send it again).")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        schedules.MapDelete("/{name}", DeleteAsync).WithName("DeleteSchedule").TakesQuery("tenant")
            .WithSummary("Delete a schedule (its jobs stay); 409 for one defined in code or configuration")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        schedules.MapPost("/{name}/pause", PauseAsync).WithName("PauseSchedule").TakesQuery("tenant")
            .WithSummary("Stop the schedule's ticks on every server until it is resumed")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPost("/{name}/resume", ResumeAsync).WithName("ResumeSchedule").TakesQuery("tenant")
            .WithSummary("Let the schedule tick again from its next tick after now (ticks while paused do not run); 409 when its cron or time zone, written to the store by hand, cannot be read")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        schedules.MapPost("/{name}/trigger", TriggerAsync).WithName("TriggerSchedule").TakesQuery("tenant")
            .WithSummary("Enqueue the schedule's job now, outside its ticks (paused or not); Location is the job")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    internal static async Task<Results<Ok<ScheduleListResponse>, ValidationProblem, ProblemHttpResult>> ListAsync(
        HttpContext http, IScheduleClient schedules, IJobStore store, IOptions<ConveyorApiOptions> apiOptions, CancellationToken cancellationToken)
    {
        if (ListSchedulesQueryParser.Parse(http.Request.Query, http.GetConveyorCaller(), apiOptions.Value, out var error) is not { } query)
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        var all = await schedules.ListAsync(query.Tenant, cancellationToken).ConfigureAwait(false);
        var page = all
            .Where(s => query.After?.IsBefore(s) != false)
            .Order(Comparer<ScheduleRecord>.Create(ScheduleListCursor.Compare))
            .Take(query.Limit + 1)
            .ToList();
        var more = page.Count > query.Limit;
        if (more)
        {
            page.RemoveAt(page.Count - 1);
        }

        var responses = new List<ScheduleResponse>(page.Count);
        foreach (var schedule in page)
        {
            responses.Add(await ScheduleResponseMapper.ToResponseAsync(schedule, schedules, store, cancellationToken).ConfigureAwait(false));
        }

        return TypedResults.Ok(new ScheduleListResponse(responses, more ? ScheduleListCursor.Of(page[^1], everyTenant: query.Tenant is null).ToString() : null));
    }

    internal static async Task<Results<Ok<ScheduleResponse>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string name, HttpContext http, IScheduleClient schedules, IJobStore store, CancellationToken cancellationToken)
    {
        if (!ScheduleValidator.IsValidName(name))
        {
            return InvalidName(name);
        }

        if (!JobTenantParameter.TryRead(http, out var tenant, out var error))
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        var schedule = await schedules.GetAsync(tenant, name, cancellationToken).ConfigureAwait(false);
        return schedule is null
            ? ApiProblems.ScheduleNotFound(name)
            : TypedResults.Ok(await ScheduleResponseMapper.ToResponseAsync(schedule, schedules, store, cancellationToken).ConfigureAwait(false));
    }

    internal static async Task<Results<Created<ScheduleResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpContext http,
        IScheduleClient schedules,
        IJobStore store,
        JobTypeCatalog catalog,
        IOptions<ConveyorApiOptions> apiOptions,
        IOptions<ConveyorOptions> coreOptions,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var read = await ReadDefinitionAsync(http, pathName: null, catalog, apiOptions.Value, coreOptions.Value, timeProvider, cancellationToken).ConfigureAwait(false);
        if (read.Invalid is not null)
        {
            return read.Invalid;
        }

        if (read.Problem is not null)
        {
            return read.Problem;
        }

        var definition = read.Definition!;
        var created = await schedules.CreateAsync(definition, cancellationToken).ConfigureAwait(false);
        if (created is null)
        {
            return ApiProblems.Conflict(
                "A schedule of that name exists.",
                $"This tenant already has a schedule '{definition.Name}': change it with PUT .../schedules/{definition.Name}, or choose another name.");
        }

        return TypedResults.Created(
            $"{http.Request.PathBase}{http.Request.Path.Value!.TrimEnd('/')}/{created.Name}",
            await ScheduleResponseMapper.ToResponseAsync(created, schedules, store, cancellationToken).ConfigureAwait(false));
    }

    internal static async Task<Results<Ok<ScheduleResponse>, Created<ScheduleResponse>, ValidationProblem, ProblemHttpResult>> PutAsync(
        string name,
        HttpContext http,
        IScheduleClient schedules,
        IJobStore store,
        JobTypeCatalog catalog,
        IOptions<ConveyorApiOptions> apiOptions,
        IOptions<ConveyorOptions> coreOptions,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        if (!ScheduleValidator.IsValidName(name))
        {
            return InvalidName(name);
        }

        var read = await ReadDefinitionAsync(http, name, catalog, apiOptions.Value, coreOptions.Value, timeProvider, cancellationToken).ConfigureAwait(false);
        if (read.Invalid is not null)
        {
            return read.Invalid;
        }

        if (read.Problem is not null)
        {
            return read.Problem;
        }

        var definition = read.Definition!;

        // Create and replace are two store calls, so a DELETE or a PUT of the same schedule can land between the lookup
        // and the write: a replace that finds it gone creates it, a create that finds it there again replaces it. A PUT
        // never answers that the schedule does not exist; only a schedule deleted and created again by others on every
        // turn outlasts the turns, and is told to try again.
        for (var turn = 0; turn < MaxPutTurns; turn++)
        {
            var existing = await schedules.GetAsync(definition.Tenant, name, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                if (await schedules.CreateAsync(definition, cancellationToken).ConfigureAwait(false) is { } created)
                {
                    return TypedResults.Created(
                        $"{http.Request.PathBase}{http.Request.Path.Value}",
                        await ScheduleResponseMapper.ToResponseAsync(created, schedules, store, cancellationToken).ConfigureAwait(false));
                }

                continue;
            }

            if (existing.Origin == ScheduleOrigin.Code)
            {
                return DefinedInCode(name, "changed");
            }

            // Decided again on the record the write applies to: a server's start may have written the schedule from its
            // code since the read above (a client of the application's own making decides as it does).
            var replaced = schedules is ScheduleClient client
                ? await client.UpdateUnlessDefinedInCodeAsync(definition, cancellationToken).ConfigureAwait(false)
                : await schedules.UpdateAsync(definition, cancellationToken).ConfigureAwait(false);
            if (replaced is { Origin: ScheduleOrigin.Code } && schedules is ScheduleClient)
            {
                return DefinedInCode(name, "changed");
            }

            if (replaced is not null)
            {
                return TypedResults.Ok(await ScheduleResponseMapper.ToResponseAsync(replaced, schedules, store, cancellationToken).ConfigureAwait(false));
            }
        }

        return ApiProblems.Conflict(
            "The schedule is being changed by other requests.",
            $"Schedule '{name}' was deleted and created again by other requests while this PUT wrote it, {MaxPutTurns} times: send the PUT again.");
    }

    internal static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAsync(
        string name, HttpContext http, IScheduleClient schedules, CancellationToken cancellationToken)
    {
        if (!ScheduleValidator.IsValidName(name))
        {
            return InvalidName(name);
        }

        if (!JobTenantParameter.TryRead(http, out var tenant, out var error))
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        var existing = await schedules.GetAsync(tenant, name, cancellationToken).ConfigureAwait(false);
        if (existing?.Origin == ScheduleOrigin.Code)
        {
            return DefinedInCode(name, "deleted");
        }

        return existing is not null && await schedules.DeleteAsync(tenant, name, cancellationToken).ConfigureAwait(false)
            ? TypedResults.NoContent()
            : ApiProblems.ScheduleNotFound(name);
    }

    internal static Task<Results<Ok<ScheduleResponse>, ValidationProblem, ProblemHttpResult>> PauseAsync(
        string name, HttpContext http, IScheduleClient schedules, IJobStore store, CancellationToken cancellationToken) =>
        SetPausedAsync(name, paused: true, http, schedules, store, cancellationToken);

    internal static Task<Results<Ok<ScheduleResponse>, ValidationProblem, ProblemHttpResult>> ResumeAsync(
        string name, HttpContext http, IScheduleClient schedules, IJobStore store, CancellationToken cancellationToken) =>
        SetPausedAsync(name, paused: false, http, schedules, store, cancellationToken);

    private static async Task<Results<Ok<ScheduleResponse>, ValidationProblem, ProblemHttpResult>> SetPausedAsync(
        string name, bool paused, HttpContext http, IScheduleClient schedules, IJobStore store, CancellationToken cancellationToken)
    {
        if (!ScheduleValidator.IsValidName(name))
        {
            return InvalidName(name);
        }

        if (!JobTenantParameter.TryRead(http, out var tenant, out var error))
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        ScheduleRecord? schedule;
        try
        {
            schedule = paused
                ? await schedules.PauseAsync(tenant, name, cancellationToken).ConfigureAwait(false)
                : await schedules.ResumeAsync(tenant, name, cancellationToken).ConfigureAwait(false);
        }
        catch (ScheduleDefinitionException e)
        {
            // Written to the store by hand: its cron or time zone cannot be read.
            return ApiProblems.Conflict("The schedule cannot be read.", $"Schedule '{name}' cannot be resumed: {e.Problem} Replace it with PUT .../schedules/{name}.");
        }

        return schedule is null
            ? ApiProblems.ScheduleNotFound(name)
            : TypedResults.Ok(await ScheduleResponseMapper.ToResponseAsync(schedule, schedules, store, cancellationToken).ConfigureAwait(false));
    }

    internal static async Task<Results<Accepted<JobCreatedResponse>, ValidationProblem, ProblemHttpResult>> TriggerAsync(
        string name, HttpContext http, IScheduleClient schedules, ServedQueues servedQueues, CancellationToken cancellationToken)
    {
        if (!ScheduleValidator.IsValidName(name))
        {
            return InvalidName(name);
        }

        if (!JobTenantParameter.TryRead(http, out var tenant, out var error))
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        var result = await schedules.TriggerAsync(tenant, name, cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            return ApiProblems.ScheduleNotFound(name);
        }

        // The request path is {prefix}/schedules/{name}/trigger; the job is {prefix}/jobs/{id}.
        var path = http.Request.Path.Value!;
        var prefix = path[..path.LastIndexOf("/schedules/", StringComparison.Ordinal)];
        var warning = await servedQueues.WarningForAsync(result.Queue).ConfigureAwait(false);
        return TypedResults.Accepted(
            ResourceLocation.InRequestTenant(http, $"{http.Request.PathBase}{prefix}/jobs/{Uri.EscapeDataString(result.JobId)}"),
            new JobCreatedResponse(result.JobId, result.State.ToApiStatus(), Rfc3339.Format(result.CreatedAt)) { Warnings = warning is null ? null : [warning] });
    }

    /// <summary>
    /// Reads and checks a body in full before anything is written: media type, size, fields, then the cron expression
    /// and time zone, the job type (a handler must run it) and the payload (against the handler's payload type).
    /// </summary>
    private static async Task<(ScheduleDefinition? Definition, ValidationProblem? Invalid, ProblemHttpResult? Problem)> ReadDefinitionAsync(
        HttpContext http,
        string? pathName,
        JobTypeCatalog catalog,
        ConveyorApiOptions apiOptions,
        ConveyorOptions coreOptions,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBodyReader.ReadJsonAsync(http.Request, apiOptions.MaxRequestBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return (null, null, problem);
        }

        var definition = ScheduleRequestParser.Parse(new ReadOnlySequence<byte>(body), pathName, out var error);
        if (definition is null)
        {
            return (null, ApiProblems.Invalid(error!.Field, error.Reason), null);
        }

        definition.Tenant = http.GetConveyorCaller().Tenant;
        ScheduleRecord record;
        try
        {
            record = ScheduleValidator.ToRecord(definition, ScheduleOrigin.Runtime, timeProvider.GetUtcNow());
        }
        catch (ScheduleDefinitionException e)
        {
            return (null, ApiProblems.Invalid(ScheduleRequestParser.FieldOf(e), e.Problem), null);
        }

        if (!catalog.Contains(record.JobType))
        {
            return (null, ApiProblems.Invalid("job_type", catalog.Unknown(record.JobType)), null);
        }

        if (record.Payload.Length > coreOptions.MaxPayloadBytes)
        {
            return (null, null, ApiProblems.TooLarge("payload", record.Payload.Length, sizeIsExact: true, coreOptions.MaxPayloadBytes, "Conveyor:MaxPayloadBytes"));
        }

        if (catalog.ValidatePayload(record.JobType, record.Payload) is { } payloadError)
        {
            return (null, ApiProblems.Invalid(payloadError.Field, payloadError.Reason), null);
        }

        return (definition, null, null);
    }

    private static ValidationProblem InvalidName(string name) => ApiProblems.Invalid("name", ScheduleRequestParser.InvalidName(name));

    private static ProblemHttpResult DefinedInCode(string name, string verb) => ApiProblems.Conflict(
        "The schedule is defined in code or configuration.",
        $"Schedule '{name}' comes from AddSchedule or Conveyor:Schedules (source: code) and is written again at every server start, so it cannot be {verb} here: change it where it is defined. Pause, resume and trigger work.");
}
