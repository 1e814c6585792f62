using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.LimitsApi.Contracts;
using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.LimitsApi;

/// <summary>
/// The rate and concurrency limits in force, as the store holds them for every server: any key reads them (each
/// applies to every tenant alike, once or per tenant; none names another tenant), only admin keys change them. A limit
/// set here (source <c>api</c>) overrides the configured one of the same kind and name on every server within
/// <c>Conveyor:Limits:RefreshInterval</c>, until it is deleted; deleting it brings back the configured limit, if a
/// server still configures one, at its next refresh.
/// </summary>
internal static class LimitsEndpoints
{
    public static void Map(IEndpointRouteBuilder group)
    {
        var limits = group.MapGroup("/limits");
        limits.MapGet("", ListAsync).WithName("ListLimits")
            .WithSummary("The rate and concurrency limits in force on every server, with where each came from");
        limits.MapGet("/{kind}/{name}", GetAsync).WithName("GetLimit")
            .WithSummary("One limit in force")
            .ProducesProblem(StatusCodes.Status404NotFound);
        limits.MapPut("/{kind}/{name}", PutAsync).WithName("PutLimit")
            .WithSummary("Create (201) or replace (200) a limit on every server, overriding the configured one until deleted; admin keys only")
            .WithDescription("kind is concurrency or rate. Body for concurrency: {\"queue\": \"imports\", \"max\": 1} and optional job_type, partition (none or tenant). Body for rate: {\"queue\": \"partner\", \"limit\": 10, \"period_seconds\": 1} and optional job_type, partition, burst (1 to limit). Every server applies it within Conveyor:Limits:RefreshInterval.")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        limits.MapDelete("/{kind}/{name}", DeleteAsync).WithName("DeleteLimit")
            .WithSummary("Delete a limit; a limit servers still configure comes back from their configuration at their next refresh; admin keys only")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    internal static async Task<Ok<LimitListResponse>> ListAsync(IJobStore store, IOptions<ConveyorOptions> options, CancellationToken cancellationToken)
    {
        var limits = await store.ListLimitsAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new LimitListResponse(limits.Select(LimitResponseMapper.ToResponse).ToList(), options.Value.Limits.RefreshInterval.TotalSeconds));
    }

    internal static async Task<Results<Ok<LimitResponse>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string kind, string name, IJobStore store, CancellationToken cancellationToken)
    {
        if (Check(kind, name) is { } invalid)
        {
            return invalid;
        }

        var found = await FindAsync(store, LimitResponseMapper.ParseKind(kind)!.Value, name, cancellationToken).ConfigureAwait(false);
        return found is null ? NotFound(kind, name) : TypedResults.Ok(LimitResponseMapper.ToResponse(found));
    }

    internal static async Task<Results<Ok<LimitResponse>, Created<LimitResponse>, ValidationProblem, ProblemHttpResult>> PutAsync(
        string kind, string name, HttpContext http, IJobStore store, IOptions<ConveyorApiOptions> apiOptions, Conveyor.Limits.LimitsInForce inForce, Conveyor.Limits.ServedLimitsInProcess servers, CancellationToken cancellationToken)
    {
        if (!http.GetConveyorCaller().IsAdmin)
        {
            return Forbidden();
        }

        if (Check(kind, name) is { } invalid)
        {
            return invalid;
        }

        var (body, problem) = await RequestBodyReader.ReadJsonAsync(http.Request, apiOptions.Value.MaxRequestBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return problem!;
        }

        var limitKind = LimitResponseMapper.ParseKind(kind)!.Value;
        if (LimitRequestParser.Parse(body, limitKind, name, out var error) is not { } limit)
        {
            return ApiProblems.Invalid(error!.Field, error.Reason);
        }

        var existing = await store.ListLimitsAsync(cancellationToken).ConfigureAwait(false);
        if (existing.FirstOrDefault(l => l.Kind == limitKind && l.Name == name) is { } current && current.Source == LimitSource.Api
            && Conveyor.Limits.LimitDefinitions.SameDefinition(current, LimitRecords.Normalize(limit)))
        {
            // Not written again: a rate limit whose record is written again starts from a fresh limiter, so a PUT that
            // changes nothing (a tool applying its desired state on a timer) would grant a new burst each time.
            return TypedResults.Ok(LimitResponseMapper.ToResponse(current));
        }

        if (!existing.Any(l => l.Kind == limitKind && l.Name == name) && existing.Count(l => l.Kind == limitKind) >= ConveyorLimitsOptions.MaxCount)
        {
            return ApiProblems.Conflict(
                "Too many limits.",
                $"There are already {ConveyorLimitsOptions.MaxCount} {kind} limits, the most every dequeue checks: delete one first.");
        }

        var written = await store.PutLimitAsync(limit, cancellationToken).ConfigureAwait(false);
        var all = await ApplyHereAsync(store, inForce, servers, cancellationToken).ConfigureAwait(false);
        var stored = all.FirstOrDefault(l => l.Kind == limitKind && l.Name == name) ?? limit;
        var response = LimitResponseMapper.ToResponse(stored);
        return written == LimitWriteResult.Created
            ? TypedResults.Created($"{http.Request.PathBase}{http.Request.Path.Value}", response)
            : TypedResults.Ok(response);
    }

    internal static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAsync(
        string kind, string name, HttpContext http, IJobStore store, Conveyor.Limits.LimitsInForce inForce, Conveyor.Limits.ServedLimitsInProcess servers, CancellationToken cancellationToken)
    {
        if (!http.GetConveyorCaller().IsAdmin)
        {
            return Forbidden();
        }

        if (Check(kind, name) is { } invalid)
        {
            return invalid;
        }

        if (!await store.DeleteLimitAsync(LimitResponseMapper.ParseKind(kind)!.Value, name, cancellationToken).ConfigureAwait(false))
        {
            return NotFound(kind, name);
        }

        await ApplyHereAsync(store, inForce, servers, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The store's limits, put in force in this process at once: its own workers take the next job under the change
    /// instead of at the refresher's next read (the other servers still take up to <c>RefreshInterval</c>), and the jobs
    /// its servers snoozed to turns of a limit now removed or changed start before the answer. A configured limit the
    /// store lacks (its API override just deleted) stays in force, as the refresher writes it back.
    /// </summary>
    private static async Task<IReadOnlyList<LimitRecord>> ApplyHereAsync(
        IJobStore store, Conveyor.Limits.LimitsInForce inForce, Conveyor.Limits.ServedLimitsInProcess servers, CancellationToken cancellationToken)
    {
        var read = inForce.BeginRead();
        var all = await store.ListLimitsAsync(cancellationToken).ConfigureAwait(false);
        var configured = Conveyor.Limits.LimitDefinitions.FromOptions(inForce.Configured);
        inForce.Apply([.. all, .. configured.Where(c => !all.Any(s => s.Kind == c.Kind && s.Name == c.Name))], read);
        try
        {
            await servers.StartWaitingOfChangedLimitsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (JobStoreUnavailableException)
        {
            // The change is written and in force: the jobs not started yet are kept for the server's next refresh,
            // and a 503 would tell the caller the change failed.
        }

        return all;
    }

    private static ValidationProblem? Check(string kind, string name)
    {
        if (LimitResponseMapper.ParseKind(kind) is null)
        {
            return ApiProblems.Invalid("kind", $"'{CreateJobRequestParser.Shorten(kind)}' is not a kind of limit: use concurrency (jobs running at once) or rate (jobs started per period).");
        }

        return QueueName.IsValid(name)
            ? null
            : ApiProblems.Invalid("name", $"'{CreateJobRequestParser.Shorten(name)}' is not a limit name: 1 to {QueueName.MaxLength} letters, digits, '_', '-' or '.'.");
    }

    private static async Task<LimitRecord?> FindAsync(IJobStore store, LimitKind kind, string name, CancellationToken cancellationToken) =>
        (await store.ListLimitsAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(l => l.Kind == kind && l.Name == name);

    private static ProblemHttpResult NotFound(string kind, string name) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "No such limit.",
        detail: $"There is no {kind} limit '{name}': GET /limits lists the limits in force.");

    private static ProblemHttpResult Forbidden() => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "This API key may not do that.",
        detail: "Limits apply to every tenant: changing them needs an admin key (Conveyor:Api:Keys:N:Admin = true).");
}
