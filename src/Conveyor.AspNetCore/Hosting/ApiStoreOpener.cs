using Conveyor.Server;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conveyor.AspNetCore.Hosting;

/// <summary>
/// Opens the store at start in a process that serves the API without workers (<c>AddApi</c> without <c>AddServer</c>),
/// as the job server does before its workers run. Without it, an API process started first on a new PostgreSQL
/// database answered 503 (schema missing) until a worker process applied the migrations, and the store's listener
/// never ran here. The start is not held up: the API is what reports a store that is down (readiness unready).
/// </summary>
internal sealed class ApiStoreOpener(IJobStore store, IServiceProviderIsService services, TimeProvider timeProvider, ILogger<ApiStoreOpener> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        // The job server opens the store in its own start, with its own timeout and failure policy.
        services.IsService(typeof(JobServer)) ? Task.CompletedTask : StoreOpener.OpenWhenAvailableAsync(store, timeProvider, logger, stoppingToken);
}
