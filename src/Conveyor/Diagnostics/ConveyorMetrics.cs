using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Conveyor.Diagnostics;

/// <summary>
/// The Meter named "Conveyor". Instrument names are a contract (seed 002/000): <c>job_processed_total</c> with tags
/// task_type, queue, status (success|failed|cancelled|released, see <see cref="AttemptStatus"/>) and <c>job_duration_seconds</c> with task_type, queue. The others are
/// what operators need without an external exporter.
/// </summary>
public sealed class ConveyorMetrics
{
    public const string MeterName = "Conveyor";

    private readonly Counter<long> _processed;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _enqueued;
    private readonly UpDownCounter<long> _inProgress;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _leaseRecoveries;
    private readonly Counter<long> _snoozed;
    private readonly Histogram<double> _queueWait;
    private readonly Gauge<long> _retentionBacklog;
    private readonly Counter<long> _fireAndForgetDropped;

    public ConveyorMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _processed = meter.CreateCounter<long>("job_processed_total", description: "Attempts finished, by job type, queue and status (success|failed, and cancelled|released for attempts a cancel or the shutdown interrupted).");
        _duration = meter.CreateHistogram<double>("job_duration_seconds", unit: "s", description: "Duration of attempts, by job type and queue.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        _enqueued = meter.CreateCounter<long>("job_enqueued_total", description: "Jobs enqueued, by job type and queue.");
        _inProgress = meter.CreateUpDownCounter<long>("job_in_progress", description: "Attempts running now, by job type and queue.");
        _retries = meter.CreateCounter<long>("job_retries_total", description: "Failed attempts scheduled for a retry, by job type and queue.");
        _leaseRecoveries = meter.CreateCounter<long>("job_lease_recoveries_total", description: "Jobs whose lease expired and that were recovered, by queue.");
        _snoozed = meter.CreateCounter<long>("job_snoozed_total", description: "Jobs handed back to wait without counting an attempt, by job type, queue and reason (unknown_job_type).");
        _queueWait = meter.CreateHistogram<double>("job_queue_wait_seconds", unit: "s", description: "Time from becoming ready to starting, by queue.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30, 60, 600] });
        _retentionBacklog = meter.CreateGauge<long>("job_retention_backlog", description:
            "Finished jobs past their retention that the janitor found waiting since it last caught up: about one janitor interval's finishes while deletion keeps up, growing while it does not (0 on servers that are not the fleet's purger).");
        _fireAndForgetDropped = meter.CreateCounter<long>("job_fire_and_forget_dropped_total", description:
            "Fire-and-forget jobs that were never stored, by job type, queue and reason (buffer_full, cancelled, store_unavailable, timeout, error, shutdown).");
    }

    internal void JobStarted(string jobType, string queue) =>
        _inProgress.Add(1, new TagList { { "task_type", jobType }, { "queue", queue } });

    internal void JobProcessed(string jobType, string queue, string status, TimeSpan duration)
    {
        var tags = new TagList { { "task_type", jobType }, { "queue", queue } };
        _inProgress.Add(-1, tags);
        _duration.Record(duration.TotalSeconds, tags);
        tags.Add("status", status);
        _processed.Add(1, tags);
    }

    /// <summary>
    /// Creates the series of the counters dashboards compute rates from, at 0, for every job type this server handles
    /// and every queue it serves: a series that appears only with its first event hides that event from increase().
    /// </summary>
    internal void StartAtZero(IEnumerable<string> jobTypes, IReadOnlyList<string> queues)
    {
        foreach (var queue in queues)
        {
            _leaseRecoveries.Add(0, new TagList { { "queue", queue } });
            foreach (var jobType in jobTypes)
            {
                var tags = new TagList { { "task_type", jobType }, { "queue", queue } };
                _enqueued.Add(0, tags);
                _retries.Add(0, tags);
                _inProgress.Add(0, tags);
                foreach (var status in AttemptStatus.All)
                {
                    var withStatus = tags;
                    withStatus.Add("status", status);
                    _processed.Add(0, withStatus);
                }
            }
        }
    }

    internal void JobEnqueued(string jobType, string queue) =>
        _enqueued.Add(1, new TagList { { "task_type", jobType }, { "queue", queue } });

    internal void JobRetryScheduled(string jobType, string queue) =>
        _retries.Add(1, new TagList { { "task_type", jobType }, { "queue", queue } });

    internal void JobSnoozed(string jobType, string queue, string reason) =>
        _snoozed.Add(1, new TagList { { "task_type", jobType }, { "queue", queue }, { "reason", reason } });

    internal void LeaseRecovered(string queue) =>
        _leaseRecoveries.Add(1, new TagList { { "queue", queue } });

    internal void FireAndForgetDropped(string jobType, string queue, string reason, long count) =>
        _fireAndForgetDropped.Add(count, new TagList { { "task_type", jobType }, { "queue", queue }, { "reason", reason } });

    internal void RetentionBacklog(long jobs) => _retentionBacklog.Record(jobs);

    internal void QueueWait(string queue, TimeSpan wait) =>
        _queueWait.Record(Math.Max(0, wait.TotalSeconds), new TagList { { "queue", queue } });
}
