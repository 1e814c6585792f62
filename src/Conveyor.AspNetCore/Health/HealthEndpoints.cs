using Conveyor.AspNetCore.JobsApi.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.Health;

/// <summary>
/// <c>/healthz</c> and <c>/readyz</c> on ASP.NET Core's <see cref="HealthCheckService"/>: liveness runs the checks tagged
/// <c>live</c> (none of Conveyor's: the process answering is the proof), readiness those tagged <c>ready</c>
/// (Conveyor's store, server heartbeat and queue latency checks, and any of the application's). Healthy answers 200,
/// Degraded 200 with status <c>degraded</c>, Unhealthy 503 problem+json naming the failing checks. While the host stops
/// (the workers' grace period) liveness answers 200 <c>draining</c>, since the process is doing its job and must not
/// be restarted, and readiness 503, so that load balancers send no more requests. Neither waits past
/// <see cref="ConveyorHealthOptions.ProbeTimeout"/>.
/// </summary>
internal static class HealthEndpoints
{
    internal static async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> HealthAsync(HealthCheckService health, IOptions<ConveyorHealthOptions> options, TimeProvider timeProvider, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var report = await RunAsync(health, ConveyorHealthOptions.LiveTag, options.Value.ProbeTimeout, timeProvider, cancellationToken).ConfigureAwait(false);
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return TypedResults.Ok(new HealthResponse("draining", null) { Checks = ChecksOf(report) });
        }

        return report?.Status switch
        {
            HealthStatus.Healthy => TypedResults.Ok(new HealthResponse("ok", null) { Checks = ChecksOf(report) }),
            HealthStatus.Degraded => TypedResults.Ok(new HealthResponse("degraded", null) { Checks = ChecksOf(report) }),
            _ => NotHealthy(report, "A liveness check fails.", options.Value.ProbeTimeout),
        };
    }

    internal static async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> ReadyAsync(HealthCheckService health, IOptions<ConveyorHealthOptions> options, TimeProvider timeProvider, IHostApplicationLifetime lifetime, Conveyor.Storage.IJobStore store, CancellationToken cancellationToken)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "The server is shutting down.",
                detail: "Running jobs are finishing (Conveyor:Server:ShutdownTimeout); send requests to another server.");
        }

        var report = await RunAsync(health, ConveyorHealthOptions.ReadyTag, options.Value.ProbeTimeout, timeProvider, cancellationToken).ConfigureAwait(false);
        return report?.Status switch
        {
            HealthStatus.Healthy => TypedResults.Ok(new HealthResponse("ready", store.Name) { Checks = ChecksOf(report) }),
            HealthStatus.Degraded => TypedResults.Ok(new HealthResponse("degraded", store.Name) { Checks = ChecksOf(report) }),
            _ => NotHealthy(report, "Not ready.", options.Value.ProbeTimeout),
        };
    }

    /// <summary>The report of the checks with <paramref name="tag"/>, or null when they did not finish within <paramref name="timeout"/>.</summary>
    private static async Task<HealthReport?> RunAsync(HealthCheckService health, string tag, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout);
        try
        {
            // WaitAsync too: a check that ignores its token must not hold the probe.
            return await health.CheckHealthAsync(r => r.Tags.Contains(tag), bound.Token).WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    private static ProblemHttpResult NotHealthy(HealthReport? report, string title, TimeSpan timeout)
    {
        if (report is null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: title,
                detail: $"The health checks did not finish within {timeout.TotalSeconds} s (Conveyor:Health:ProbeTimeout).");
        }

        var failing = report.Entries.Where(e => e.Value.Status == HealthStatus.Unhealthy).ToList();
        // The store's own answer keeps the title callers know; its description names the store, never the client's text.
        var storeDown = failing.Count == 1 && failing[0].Key == StoreHealthCheck.Name;
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: storeDown ? "The job store does not answer." : title,
            detail: storeDown ? failing[0].Value.Description : "Failing checks: " + string.Join("; ", failing.Select(e => $"{e.Key}: {e.Value.Description ?? "unhealthy"}")),
            extensions: new Dictionary<string, object?> { ["checks"] = ChecksOf(report) });
    }

    private static Dictionary<string, HealthCheckResponse>? ChecksOf(HealthReport? report) =>
        report is null || report.Entries.Count == 0
            ? null
            : report.Entries.ToDictionary(e => e.Key, e => new HealthCheckResponse(e.Value.Status.ToString(), e.Value.Description), StringComparer.Ordinal);
}
