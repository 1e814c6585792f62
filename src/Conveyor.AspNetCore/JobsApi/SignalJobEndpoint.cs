using System.Buffers;
using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// <c>POST /jobs/{id}/signals/{name}</c>: delivers a signal with a JSON payload to one of the caller's jobs
/// (<c>IJobSignalStore.SignalAsync</c>): a job parked waiting for it runs again at once, a job that has not reached its
/// wait yet gets it there. 202 with the job as listings show it; 404 unknown job; 409 finished job, a job past its deadline, a signal
/// already delivered, or a wait that timed out; 400 a bad name or a body that is not JSON.
/// </summary>
internal static class SignalJobEndpoint
{
    public static void Map(IEndpointRouteBuilder group) =>
        group.MapPost("/jobs/{jobId}/signals/{name}", SignalAsync).WithName("SignalJob").TakesQuery("tenant")
            .WithSummary("Deliver a signal to a job: a job waiting for it runs again at once; one that has not reached its wait yet gets it there")
            .WithDescription("Body: the signal's payload, any JSON value up to 1 MiB (an empty body is null). The first signal of a name wins: a second one, or one that comes after the job's wait for it timed out, is a 409, as is a signal to a finished job or to one whose deadline has passed (it fails without running again). " + JobsEndpoints.CommandAnswer)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

    internal static async Task<Results<Accepted<JobResponse>, ValidationProblem, ProblemHttpResult>> SignalAsync(
        string jobId, string name, HttpContext http, IJobStore store, IOptions<ConveyorApiOptions> apiOptions, CancellationToken cancellationToken)
    {
        if (!JobId.IsValid(jobId))
        {
            return ApiProblems.Invalid("job_id", $"'{Shorten(jobId)}' is not a job id: 1 to {JobId.MaxLength} letters, digits, '_', '-', ':' or '.', e.g. job_31c8927959d5442e90e3a6bc5a9188ec.");
        }

        if (!JobSignal.IsValidName(name))
        {
            return ApiProblems.Invalid("name", $"'{Shorten(name)}' is not a signal name: 1 to {JobSignal.MaxNameLength} letters, digits, '-', '_', '.' or ':', e.g. approved.");
        }

        if (!JobTenantParameter.TryRead(http, out var tenant, out var error))
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        var (limit, limitName) = apiOptions.Value.MaxRequestBytes < JobSignal.MaxPayloadBytes
            ? (apiOptions.Value.MaxRequestBytes, "Conveyor:Api:MaxRequestBytes")
            : (JobSignal.MaxPayloadBytes, "a signal's largest payload");
        var (body, problem) = await RequestBodyReader.ReadJsonAsync(http.Request, limit, cancellationToken, limitName, bodyOptional: true).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        // Only an empty body means no payload: whitespace alone is not JSON.
        var payload = body!.Length == 0 ? "null"u8.ToArray() : body!;
        // The whole body is the payload, read as deep as a job's body (JobSignal checks the same 64 levels).
        if (JsonRequest.TooDeep(new ReadOnlySequence<byte>(payload), CreateJobRequestParser.MaxDepth, namedLevels: 0, "payload") is { } tooDeep)
        {
            return ApiProblems.Invalid(tooDeep.Field, tooDeep.Reason);
        }

        if (!JobSignal.IsJsonPayload(payload, out var reason))
        {
            // A name given twice is JSON a reader may take either way: named by its path, as POST /jobs names it.
            return JsonRequest.DuplicateName(new ReadOnlySequence<byte>(payload), CreateJobRequestParser.MaxDepth, "payload") is { } duplicate
                ? ApiProblems.Invalid(duplicate.Field, duplicate.Reason)
                : ApiProblems.Invalid("payload", $"is not JSON: {CreateJobRequestParser.TrimMessage(reason)}.");
        }

        var result = await store.SignalAsync(tenant, jobId, name, payload, cancellationToken).ConfigureAwait(false);
        var job = await store.GetAsync(tenant, jobId, cancellationToken).ConfigureAwait(false);
        return (result, job) switch
        {
            (JobSignalResult.NotFound, _) or (_, null) => ApiProblems.JobNotFound(jobId),
            (JobSignalResult.Finished, _) => ApiProblems.Conflict(
                "The job is finished.",
                $"Job {jobId} is {job.State.ToApiStatus()}; a signal reaches only a job that has not finished."),
            (JobSignalResult.DeadlinePassed, _) => ApiProblems.Conflict(
                "The job's deadline has passed.",
                $"Job {jobId}'s deadline {Rfc3339.Format(job.Deadline)} has passed; it fails without running again, so no signal reaches it."),
            (JobSignalResult.AlreadyDelivered, _) => ApiProblems.Conflict(
                "The signal was already delivered.",
                $"Job {jobId} already has signal '{name}'; the first one wins and is the one its handler reads."),
            (JobSignalResult.WaitTimedOut, _) => ApiProblems.Conflict(
                "The job no longer waits for this signal.",
                $"Job {jobId}'s wait for signal '{name}' timed out and the job went on without it."),
            _ => TypedResults.Accepted(JobLocation(http), JobResponseMapper.ToSummaryResponse(job)),
        };
    }

    /// <summary>The job's URL: the request path is .../jobs/{id}/signals/{name}.</summary>
    private static string JobLocation(HttpContext http)
    {
        var path = http.Request.Path.Value!;
        var signals = path.LastIndexOf("/signals/", StringComparison.Ordinal);
        return ResourceLocation.InRequestTenant(http, $"{http.Request.PathBase}{path[..signals]}");
    }

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..77] + "...";
}
