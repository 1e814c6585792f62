using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// The shape of every background component of the server: one <see cref="RunOnceAsync"/> per tick of a
/// <see cref="PeriodicTimer"/> on the injected <see cref="TimeProvider"/>. A failed tick is logged and the loop
/// carries on; only cancellation ends it. Tests call <see cref="RunOnceAsync"/> directly.
/// </summary>
internal abstract class PeriodicComponent(TimeSpan interval, TimeProvider timeProvider, ILogger logger)
{
    protected abstract string Name { get; }

    protected TimeSpan Period => interval;

    protected TimeProvider TimeProvider => timeProvider;

    public abstract Task RunOnceAsync(CancellationToken cancellationToken);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await RunOnceAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    Log.ComponentFailed(logger, e, Name);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
