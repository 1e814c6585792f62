using System.Text;
using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.Handlers;
using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// <c>GET /jobs/{id}/steps</c>: what a job has stored durably (<c>IJobStepStore.GetStepsAsync</c>): its handler's
/// finished steps with their results, the signals delivered to it and the deadlines of its waits. An operator reads
/// here why a retried job skipped work, or what a waiting job waits for. 404 for an unknown job or another tenant's.
/// </summary>
internal static class JobStepsEndpoint
{
    private static readonly string SignalPrefix = JobSignal.StepName("");
    private static readonly string WaitPrefix = JobSignal.WaitStepName("");
    private static readonly string SleepPrefix = DeadlineSteps.SleepStepName("");

    public static void Map(IEndpointRouteBuilder group) =>
        group.MapGet("/jobs/{jobId}/steps", GetAsync).WithName("GetJobSteps").TakesQuery("tenant")
            .WithSummary("A job's durable steps (finished steps of its handler with their results), the signals delivered to it and its waits' deadlines")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

    internal static async Task<Results<Ok<JobStepListResponse>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string jobId, HttpContext http, IJobStore store, CancellationToken cancellationToken)
    {
        if (!JobId.IsValid(jobId))
        {
            return JobsEndpoints.InvalidJobId(jobId);
        }

        if (!JobTenantParameter.TryRead(http, out var tenant, out var error))
        {
            return error!.Forbidden ? ApiProblems.ForbiddenTenant(error.Field, error.Reason) : ApiProblems.Invalid(error.Field, error.Reason);
        }

        var steps = await store.GetStepsAsync(tenant, jobId, cancellationToken).ConfigureAwait(false);
        return steps is null
            ? ApiProblems.JobNotFound(jobId)
            : TypedResults.Ok(new JobStepListResponse(jobId, [.. steps.Select(ToResponse)]));
    }

    private static JobStepResponse ToResponse(JobStep step)
    {
        var (kind, name) = step.Name switch
        {
            var n when n.StartsWith(SignalPrefix, StringComparison.Ordinal) => ("signal", n[SignalPrefix.Length..]),
            var n when n.StartsWith(WaitPrefix, StringComparison.Ordinal) => ("wait", n[WaitPrefix.Length..]),
            var n when n.StartsWith(SleepPrefix, StringComparison.Ordinal) => ("sleep", n[SleepPrefix.Length..]),
            var n => ("step", n),
        };

        // A wait's or a sleep's deadline is shown as a time, not as the ticks it is stored as (past 2^53, which
        // JavaScript cannot hold).
        var result = step.Result.IsEmpty ? null
            : kind is "wait" or "sleep" && DeadlineSteps.TryRead(step.Result.Span, out var until)
                ? new RawJson(Encoding.UTF8.GetBytes($"\"{Rfc3339.Format(until)}\""))
                : new RawJson(step.Result);
        return new JobStepResponse(name, kind, step.Attempt, result, Rfc3339.Format(step.CompletedAt))
        {
            TimedOut = kind == "signal" && step.Result.IsEmpty,
        };
    }
}
