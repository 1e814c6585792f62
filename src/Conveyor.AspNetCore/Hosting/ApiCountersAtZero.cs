using Conveyor.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace Conveyor.AspNetCore.Hosting;

/// <summary>
/// Creates the API's count of requests refused for an unavailable store at 0, at the host's start when /metrics (mapped
/// before it) listens, so that increase() sees the first one. The store itself is opened by AddConveyor's
/// ClientStoreOpener, or by the job server.
/// </summary>
internal sealed class ApiCountersAtZero(ConveyorMetrics metrics) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.StoreUnavailableAtZero([StoreOperations.Api]);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
