using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conveyor.Client;

/// <summary>
/// Opens the store at start in a process without a job server (an application that only enqueues, an API without
/// workers), as the job server does before its workers run. Without it, such a process started first on a new
/// PostgreSQL database failed every enqueue (schema missing) until a worker process applied the migrations, and the
/// store's listener never ran here. The start is not held up: the calls report a store that is down as they would.
/// A store that waiting cannot heal (a wrong password, a setting the store refuses) is logged; it stops the application
/// only where the application is the Jobs API (<see cref="StopWhenStoreCannotBeOpened"/>), as it stops the job server's
/// start: left running, the API answered every request 503 "try again shortly" for a fault no retry could fix. An
/// application that only enqueues among other work (a web site) keeps running, its enqueues failing.
/// </summary>
internal sealed partial class ClientStoreOpener(
    IJobStore store, IServiceProvider services, IHostApplicationLifetime lifetime, TimeProvider timeProvider, ConveyorMetrics metrics, ILogger<ClientStoreOpener> logger) : BackgroundService
{
    /// <summary>Why the application was stopped: the store cannot be opened. Null when it was not.</summary>
    public string? StoppedBecause { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The job server opens the store in its own start, with its own timeout and failure policy.
        if (Has(typeof(JobServer)))
        {
            return;
        }

        metrics.StoreUnavailableAtZero([StoreOperations.Open]);
        if (await StoreOpener.OpenWhenAvailableAsync(store, timeProvider, logger, metrics, stoppingToken).ConfigureAwait(false) is not { } failure)
        {
            return;
        }

        if (!Has(typeof(StopWhenStoreCannotBeOpened)))
        {
            LogCannotBeOpenedRunningOn(logger, store.Name, failure.Message);
            return;
        }

        StoppedBecause = $"The {store.Name} store cannot be opened: {failure.Message}";
        LogCannotBeOpened(logger, store.Name, failure.Message);

        // A stop for a setting is a failure: a host that returns from Main without a code of its own exits with 1.
        Environment.ExitCode = 1;
        lifetime.StopApplication();
    }

    // Without IServiceProviderIsService (a container that lacks it), a registered service is resolved to be seen.
    private bool Has(Type type) =>
        services.GetService<IServiceProviderIsService>() is { } known ? known.IsService(type) : services.GetService(type) is not null;

    // The reason without its stack trace: the failure is a setting or the store's state, said in one line. The id is the
    // one the API's opener had before every process without workers opened its store.
    [LoggerMessage(1007, LogLevel.Critical, "The {store} store cannot be opened: {reason} Stopping.")]
    private static partial void LogCannotBeOpened(ILogger logger, string store, string reason);

    [LoggerMessage(127, LogLevel.Critical, "The {store} store cannot be opened: {reason} The application goes on; its calls to the store fail until this is fixed and it restarts.")]
    private static partial void LogCannotBeOpenedRunningOn(ILogger logger, string store, string reason);
}

/// <summary>
/// Registered by an application whose purpose the store is (the Jobs API): a store that cannot be opened stops it
/// (<see cref="ClientStoreOpener"/>).
/// </summary>
internal sealed class StopWhenStoreCannotBeOpened;
