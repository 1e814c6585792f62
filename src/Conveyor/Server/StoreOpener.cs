using Conveyor.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Opens a store (schema, migrations, the store's listeners) in the background until it answers, for a process that
/// started without it: a job server with <see cref="JobServerOptions.StartWithoutStore"/>, and an API without workers.
/// Every other call of the store works without it on a store that was opened by another process, but a store never
/// opened by anyone has no schema, and one opened by another process has no listener here (on PostgreSQL, the
/// listener is what notices a restart and renews the pool before a request finds a dead connection).
/// </summary>
internal static class StoreOpener
{
    /// <summary>
    /// Calls <see cref="IJobStore.InitializeAsync"/> until it succeeds, with the servers' backoff between tries while
    /// the store is unavailable. A failure that waiting cannot heal ends the tries and is returned, for the caller to
    /// report or act on; null once the store is open (or the process is ending). Each unavailable try is counted in
    /// <paramref name="metrics"/> (<c>open</c>).
    /// </summary>
    public static async Task<Exception?> OpenWhenAvailableAsync(IJobStore store, TimeProvider timeProvider, ILogger logger, ConveyorMetrics? metrics, CancellationToken cancellationToken)
    {
        var backoff = default(Backoff);
        while (true)
        {
            try
            {
                await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (JobStoreUnavailableException e) when (!cancellationToken.IsCancellationRequested)
            {
                metrics?.StoreUnavailable(StoreOperations.Open);
                var delay = backoff.Next();
                if (backoff.IsWorthLogging)
                {
                    Log.StoreUnavailable(logger, e, store.Name, "open", (int)delay.TotalMilliseconds);
                }

                await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The process is ending (a start that failed after this began): nothing to open, nothing to report.
                return null;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                return e;
            }
        }
    }
}
