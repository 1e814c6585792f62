using Conveyor.Server;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conveyor.AspNetCore.Hosting;

/// <summary>
/// Opens the store at start in a process that serves the API without workers (<c>AddApi</c> without <c>AddServer</c>),
/// as the job server does before its workers run. Without it, an API process started first on a new PostgreSQL
/// database answered 503 (schema missing) until a worker process applied the migrations, and the store's listener,
/// which notices a server restart and so renews the pool's dead connections before a request finds one, never ran.
/// The start is not held up: an outage is retried with the servers' backoff (readiness says unready meanwhile), and
/// a failure that waiting cannot heal is logged once and left to the requests, which report it.
/// </summary>
internal sealed partial class ApiStoreOpener(IJobStore store, IServiceProviderIsService services, TimeProvider timeProvider, ILogger<ApiStoreOpener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (services.IsService(typeof(JobServer)))
        {
            // The job server opens the store in its own start, with its own timeout and failure policy.
            return;
        }

        var backoff = default(Backoff);
        while (true)
        {
            try
            {
                await store.InitializeAsync(stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (JobStoreUnavailableException e) when (!stoppingToken.IsCancellationRequested)
            {
                var delay = backoff.Next();
                if (backoff.IsWorthLogging)
                {
                    LogUnavailable(logger, e, store.Name, (int)delay.TotalMilliseconds);
                }

                await Task.Delay(delay, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && e is not ObjectDisposedException)
            {
                LogCannotOpen(logger, e, store.Name);
                return;
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "The {store} store is unavailable; the API opens it again in {delayMs} ms.")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string store, int delayMs);

    [LoggerMessage(LogLevel.Error, "The {store} store cannot be opened; requests that need it will fail until the cause is fixed and the process restarted.")]
    private static partial void LogCannotOpen(ILogger logger, Exception exception, string store);
}
