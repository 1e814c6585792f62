using Conveyor.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Returns the jobs of dead workers: an active job whose lease expired goes back to pending (its attempt counted)
/// or, out of attempts, to failed. Every server runs one; the store makes each recovery atomic, so they never
/// recover a job twice.
/// </summary>
internal sealed class Recoverer(
    IJobStore store,
    JobReadySignal readySignal,
    ConveyorMetrics metrics,
    TimeSpan interval,
    TimeProvider timeProvider,
    ILogger logger) : PeriodicComponent(interval, timeProvider, logger)
{
    private const int BatchSize = 100;
    private readonly ILogger _logger = logger;

    protected override string Name => "Recoverer";

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<RecoveredJob> recovered;
        do
        {
            recovered = await store.RecoverExpiredLeasesAsync(BatchSize, cancellationToken).ConfigureAwait(false);
            foreach (var job in recovered)
            {
                metrics.LeaseRecovered(job.Queue);
                Log.LeaseRecovered(_logger, job.JobId, job.Type, job.Queue, job.NewState.ToApiStatus());
            }

            if (recovered.Count > 0)
            {
                readySignal.Set();
            }
        }
        while (recovered.Count == BatchSize);
    }
}
