using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conveyor.AspNetCore.Health;

/// <summary>Liveness (the process answers) and readiness (the store answers a lookup within five seconds).</summary>
internal static class HealthEndpoints
{
    public static readonly TimeSpan ReadinessTimeout = TimeSpan.FromSeconds(5);

    internal static Ok<HealthResponse> Health() => TypedResults.Ok(new HealthResponse("ok", null));

    internal static async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> ReadyAsync(IJobStore store, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(ReadinessTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            // A point lookup of an id that cannot exist: cheap on every store, and it proves the store answers.
            await store.GetAsync(TenantId.Default, "readiness-probe", linked.Token).ConfigureAwait(false);
            return TypedResults.Ok(new HealthResponse("ready", store.Name));
        }
        catch (Exception e) when (e is JobStoreUnavailableException || (e is OperationCanceledException && timeout.IsCancellationRequested))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "The job store does not answer.",
                detail: e is JobStoreUnavailableException ? $"{store.Name}: {e.Message}" : $"{store.Name} did not answer within {ReadinessTimeout.TotalSeconds} s.");
        }
    }
}
