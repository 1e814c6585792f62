using Microsoft.Extensions.Logging;

namespace Conveyor.Limits;

/// <summary>
/// The <see cref="ServedLimits"/> of the servers running in this process, so that the Limits API, once it has put a
/// change in force here, starts the jobs these servers snoozed to turns of the limits it removed or changed before it
/// answers, rather than leaving them to each server's next refresh.
/// </summary>
internal sealed class ServedLimitsInProcess
{
    private readonly Lock _lock = new();
    private (ServedLimits Served, ILogger Logger)[] _servers = [];

    public void Add(ServedLimits served, ILogger logger)
    {
        lock (_lock)
        {
            _servers = [.. _servers, (served, logger)];
        }
    }

    public void Remove(ServedLimits served)
    {
        lock (_lock)
        {
            _servers = _servers.Where(s => !ReferenceEquals(s.Served, served)).ToArray();
        }
    }

    /// <summary>
    /// Starts, on every server of this process, the jobs waiting for turns of a limit since removed or changed
    /// (<see cref="ServedLimits.StartWaitingOfChangedLimitsAsync"/>), logged by the server that had them.
    /// </summary>
    public async Task StartWaitingOfChangedLimitsAsync(CancellationToken cancellationToken)
    {
        foreach (var (served, logger) in _servers)
        {
            if (await served.StartWaitingOfChangedLimitsAsync(cancellationToken).ConfigureAwait(false) is var started and > 0)
            {
                Log.StartedWaitingOfChangedLimits(logger, started);
            }
        }
    }
}
