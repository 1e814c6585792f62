using Conveyor.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// The shape of every background component of the server: one <see cref="RunOnceAsync"/> per tick of a
/// <see cref="PeriodicTimer"/> on the injected <see cref="TimeProvider"/>. A failed tick is logged and the loop
/// carries on; only cancellation ends it. Tests call <see cref="RunOnceAsync"/> or <see cref="TickAsync"/> directly.
/// </summary>
/// <remarks>
/// A store that cannot be reached (<see cref="JobStoreUnavailableException"/>: a restart, a network blip) is not the
/// component's failure and passes: one warning when the outage begins and one information line when the store
/// answers again, not an error every tick. Any other exception is an error each time. Every tick that finds the store
/// unavailable is counted in <c>job_store_unavailable_total</c> all the same: a store that refuses writes while it
/// answers reads shows there, and nowhere else in the metrics.
/// </remarks>
internal abstract class PeriodicComponent(TimeSpan interval, TimeProvider timeProvider, ILogger logger)
{
    // The timestamp of the first tick that found the store unavailable; null while it answers.
    private long? _outageStartedAt;

    // The component's label in job_store_unavailable_total, from its name; null until the first tick creates its series.
    private string? _operation;

    protected abstract string Name { get; }

    /// <summary>Where failed ticks are counted (the job server sets it); null counts nothing.</summary>
    internal ConveyorMetrics? Metrics { get; init; }

    protected TimeSpan Period => interval;

    protected TimeProvider TimeProvider => timeProvider;

    protected ILogger Logger => logger;

    /// <summary>True while the store has been unavailable since the last tick that reached it.</summary>
    protected bool StoreWasUnavailable => _outageStartedAt is not null;

    /// <summary>How long the store has been unavailable, from the first tick that found it so; zero while it answers.</summary>
    protected TimeSpan OutageLength => _outageStartedAt is { } startedAt ? timeProvider.GetElapsedTime(startedAt) : TimeSpan.Zero;

    public abstract Task RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>
    /// False when the last <see cref="RunOnceAsync"/> had nothing to ask the store (a lease extender holding no lease):
    /// such a tick says nothing of the store, so it does not end an outage.
    /// </summary>
    protected virtual bool LastTickAskedTheStore => true;

    public virtual async Task RunAsync(CancellationToken cancellationToken)
    {
        // At 0 an interval before the first tick, so that a scrape sees it there even when that tick fails.
        CountFromZero();
        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await TickAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Creates this component's <c>job_store_unavailable_total</c> series at 0, once.</summary>
    private void CountFromZero()
    {
        if (_operation is null && Metrics is not null)
        {
            _operation = StoreOperations.OfComponent(Name);
            Metrics.StoreUnavailableAtZero([_operation]);
        }
    }

    /// <summary>One tick: <see cref="RunOnceAsync"/>, its failure logged rather than thrown.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        CountFromZero();
        try
        {
            await RunOnceAsync(cancellationToken).ConfigureAwait(false);
            if (_outageStartedAt is { } startedAt && LastTickAskedTheStore)
            {
                _outageStartedAt = null;
                Log.ComponentStoreAvailableAgain(logger, Name, timeProvider.GetElapsedTime(startedAt).TotalSeconds);
            }
        }
        catch (JobStoreUnavailableException e) when (!cancellationToken.IsCancellationRequested)
        {
            if (_operation is not null)
            {
                Metrics?.StoreUnavailable(_operation);
            }

            if (_outageStartedAt is null)
            {
                _outageStartedAt = timeProvider.GetTimestamp();
                Log.ComponentStoreUnavailable(logger, e, Name);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Log.ComponentFailed(logger, e, Name);
        }
    }
}
