using Conveyor.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.Health;

/// <summary>
/// <c>conveyor_store</c>: the store answers a point lookup within <see cref="ConveyorHealthOptions.StoreTimeout"/>.
/// Unhealthy otherwise, without the store client's text (it goes to the log).
/// </summary>
internal sealed partial class StoreHealthCheck(IJobStore store, TimeProvider timeProvider, IOptions<ConveyorHealthOptions> options, ILogger<StoreHealthCheck> logger) : IHealthCheck
{
    public const string Name = "conveyor_store";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var timeout = options.Value.StoreTimeout;
        using var bound = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(bound.Token, cancellationToken);
        var data = new Dictionary<string, object> { ["store"] = store.Name };
        try
        {
            // A point lookup of an id that cannot exist: cheap on every store, and it proves the store answers. WaitAsync
            // too: a client stuck on a dead socket that ignores its token must not hold the probe.
            await store.GetAsync(TenantId.Default, "readiness-probe", linked.Token).AsTask().WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"The {store.Name} store answers.", data);
        }
        catch (Exception e) when (e is JobStoreUnavailableException or TimeoutException || (e is OperationCanceledException && bound.IsCancellationRequested))
        {
            LogNotReady(logger, e, store.Name);
            return HealthCheckResult.Unhealthy(
                e is JobStoreUnavailableException ? $"The {store.Name} store is unavailable; the server log has the details." : $"The {store.Name} store did not answer within {timeout.TotalSeconds} s.",
                data: data);
        }
    }

    [LoggerMessage(1006, LogLevel.Warning, "Health: the {store} store does not answer; not ready.")]
    private static partial void LogNotReady(ILogger logger, Exception exception, string store);
}
