using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conveyor.AspNetCore.Health;

/// <summary>
/// Liveness (the process answers) and readiness (the store answers a lookup within five seconds). While the host stops
/// (the workers' grace period), liveness answers 200 <c>draining</c>, since the process is doing its job and must not be
/// restarted, and readiness answers 503, so that load balancers send no more requests.
/// </summary>
internal static partial class HealthEndpoints
{
    public static readonly TimeSpan ReadinessTimeout = TimeSpan.FromSeconds(5);

    internal static Ok<HealthResponse> Health(IHostApplicationLifetime lifetime) =>
        TypedResults.Ok(new HealthResponse(lifetime.ApplicationStopping.IsCancellationRequested ? "draining" : "ok", null));

    internal static async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> ReadyAsync(IJobStore store, TimeProvider timeProvider, IHostApplicationLifetime lifetime, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "The server is shutting down.",
                detail: "Running jobs are finishing (Conveyor:Server:ShutdownTimeout); send requests to another server.");
        }

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
            // The store client's own text (endpoints, thread pool statistics, links) goes to the log, not to the caller.
            LogNotReady(loggerFactory.CreateLogger(typeof(HealthEndpoints).FullName!), e, store.Name);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "The job store does not answer.",
                detail: e is JobStoreUnavailableException ? $"The {store.Name} store is unavailable; the server log has the details." : $"The {store.Name} store did not answer within {ReadinessTimeout.TotalSeconds} s.");
        }
    }

    [LoggerMessage(LogLevel.Warning, "/readyz: the {store} store does not answer; not ready.")]
    private static partial void LogNotReady(ILogger logger, Exception exception, string store);
}
