using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Conveyor.Storage;

namespace Conveyor.Diagnostics;

/// <summary>
/// The Meter named "Conveyor". Instrument names are a contract (seed 002/000): <c>job_processed_total</c> with tags
/// task_type, queue, status (success|failed|cancelled|released, see <see cref="AttemptStatus"/>) and <c>job_duration_seconds</c> with task_type, queue. The others are
/// what operators need without an external exporter: besides the counters and histograms every process records, the
/// processes that opt in (<see cref="ConveyorMetricsOptions.StoreGauges"/>) publish observable gauges read from the
/// store and cached (<c>job_queue_size{queue,state}</c>, <c>job_queue_latency_seconds{queue}</c>,
/// <c>job_queue_paused{queue}</c>, <c>job_servers_alive</c>, <c>job_store_up</c>), so a <c>/metrics</c> scrape,
/// OpenTelemetry and <c>dotnet-counters</c> see the same series. Every <c>queue</c> label is a known queue's name or
/// <c>(other)</c> (<see cref="QueueLabels"/>), whatever queue names callers enqueue into.
/// </summary>
public sealed class ConveyorMetrics
{
    /// <summary>The meter's name: pass it to <c>AddMeter</c> of a meter provider.</summary>
    public const string MeterName = "Conveyor";

    private readonly Counter<long> _processed;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _enqueued;
    private readonly UpDownCounter<long> _inProgress;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _leaseRecoveries;
    private readonly Counter<long> _snoozed;
    private readonly Counter<long> _idempotentSkipped;
    private readonly Counter<long> _idempotencyUnavailable;
    private readonly Histogram<double> _queueWait;
    private readonly Gauge<long> _retentionBacklog;
    private readonly Counter<long> _fireAndForgetDropped;
    private readonly Counter<long> _scheduleFires;
    private readonly Counter<long> _scheduleMisfires;
    private readonly Counter<long> _storeUnavailable;
    private readonly BoundedLabels _jobTypes;
    private readonly BoundedLabels _schedules;
    private readonly QueueLabels _queues;
    private readonly ConcurrentDictionary<(string Instrument, string? JobType, string Queue), KeyValuePair<string, object?>[]> _histogramsAtZero = new();

    private static readonly JobState[] QueueStates =
        [JobState.Scheduled, JobState.Pending, JobState.Active, JobState.Retrying, JobState.Succeeded, JobState.Partial, JobState.Failed, JobState.Cancelled, JobState.Waiting];

    private static readonly string[] QueueStateNames = [.. QueueStates.Select(static s => s.ToStorageName())];

    /// <summary>The cache behind the store-derived gauges (disabled unless this process opted in).</summary>
    internal StoreGauges StoreGauges { get; }

    /// <summary>The <c>queue</c> label: the known queues by name, the others as <c>(other)</c>.</summary>
    internal QueueLabels Queues => _queues;

    internal ConveyorMetrics(IMeterFactory meterFactory)
        : this(meterFactory, StoreGauges.Disabled, new QueueLabels(null, TimeProvider.System, StoreGauges.Disabled.Options))
    {
    }

    internal ConveyorMetrics(IMeterFactory meterFactory, StoreGauges storeGauges, QueueLabels queues)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(storeGauges);
        ArgumentNullException.ThrowIfNull(queues);
        StoreGauges = storeGauges;
        _queues = queues;
        _jobTypes = new BoundedLabels(storeGauges.Options.MaxJobTypes, BoundedLabels.OtherJobTypes);
        _schedules = new BoundedLabels(storeGauges.Options.MaxSchedules, BoundedLabels.OtherSchedules);
        var meter = meterFactory.Create(MeterName);
        _processed = meter.CreateCounter<long>("job_processed_total", description: "Attempts finished, by job type, queue and status (success|failed; cancelled|released for attempts a cancel or the shutdown interrupted; snoozed for attempts that ended so that the job waits: a signal, a durable sleep, a snooze; lease_lost for attempts whose lease ended under them).");
        _duration = meter.CreateHistogram<double>("job_duration_seconds", unit: "s", description: "Duration of attempts, by job type and queue.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        _enqueued = meter.CreateCounter<long>("job_enqueued_total", description: "Jobs enqueued, by job type and queue.");
        _inProgress = meter.CreateUpDownCounter<long>("job_in_progress", description: "Attempts running now, by job type and queue.");
        _retries = meter.CreateCounter<long>("job_retries_total", description: "Failed attempts scheduled for a retry, by job type and queue.");
        _leaseRecoveries = meter.CreateCounter<long>("job_lease_recoveries_total", description: "Jobs whose lease expired and that were recovered, by queue and outcome (requeued, failed, cancelled).");
        _snoozed = meter.CreateCounter<long>("job_snoozed_total", description: "Jobs handed back to wait without counting an attempt, by job type, queue and reason (unknown_job_type, rate_limited, signal, sleep, idempotency_key_busy, idempotency_store_unavailable).");
        _idempotentSkipped = meter.CreateCounter<long>("job_idempotent_skipped_total", description: "Jobs acknowledged as succeeded without running the handler because their idempotency key was already done, by job type and queue.");
        _idempotencyUnavailable = meter.CreateCounter<long>("job_idempotency_unavailable_total", description: "Idempotent jobs whose idempotency record could not be read because the store was unreachable, by job type, queue and mode (open: the handler ran; closed: the job was snoozed).");
        _queueWait = meter.CreateHistogram<double>("job_queue_wait_seconds", unit: "s", description: "Time from becoming ready to starting, by queue.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30, 60, 600] });
        _retentionBacklog = meter.CreateGauge<long>("job_retention_backlog", description:
            "Finished jobs past their retention that the janitor found waiting since it last caught up: about one janitor interval's finishes while deletion keeps up, growing while it does not (0 on servers that are not the fleet's purger).");
        _fireAndForgetDropped = meter.CreateCounter<long>("job_fire_and_forget_dropped_total", description:
            "Fire-and-forget jobs given up on, by job type, queue and reason (buffer_full, cancelled, error, shutdown).");
        _scheduleFires = meter.CreateCounter<long>("schedule_fires_total", description: "Jobs enqueued for a schedule's ticks (one per tick, whatever the number of servers), by schedule.");
        _scheduleMisfires = meter.CreateCounter<long>("schedule_misfires_total", description:
            "Ticks that did not run at their time, by schedule and policy: skip|once|all for ticks missed while no server ran (once and all still run some of them late), overlap for ticks skipped while the previous run had not finished.");
        _storeUnavailable = meter.CreateCounter<long>("job_store_unavailable_total", description:
            "Store calls that failed as unavailable, by operation: open, start, limits, acknowledge, rate_permits, dequeue (the server's calls), a background component's failed tick (promoter, scheduler, recoverer, janitor, server_heartbeat, lease_extender, limits_refresher), api (a Jobs API request answered 503). Counts the writes a store refuses while its reads, and job_store_up, still answer.");
        if (storeGauges.Enabled)
        {
            CreateStoreGauges(meter, storeGauges);
        }

        queues.RefreshIfDue();
    }

    private static void CreateStoreGauges(Meter meter, StoreGauges gauges)
    {
        meter.CreateObservableGauge("job_store_up", () => gauges.Observe() is null ? 0 : 1,
            description: "1 when the last read of the store for the job_queue_* and job_servers_alive gauges succeeded; 0 when it failed or outlasted Conveyor:Metrics:StoreTimeout, and those gauges are left out.");
        meter.CreateObservableGauge("job_queue_size", () => QueueSizes(gauges.Observe()),
            description: "Jobs in each queue by state (waiting, scheduled, pending, active, retrying, succeeded, partial, failed, cancelled), across tenants; read from the store at most once per Conveyor:Metrics:StoreGaugesInterval.");
        meter.CreateObservableGauge("job_queue_latency_seconds", () => QueueLatencies(gauges.Observe(), gauges.Now), unit: "s",
            description: "How long the next job to be taken from each queue has been pending (0 when none waits).");
        meter.CreateObservableGauge("job_queue_paused", () => PausedQueues(gauges.Observe()),
            description: "1 when the queue is paused, 0 when it is not.");
        meter.CreateObservableGauge("job_servers_alive", () => gauges.Observe() is { } snapshot ? [new Measurement<int>(snapshot.ServersAlive)] : Array.Empty<Measurement<int>>(),
            description: "Worker servers whose heartbeat is current, across the fleet.");
    }

    private static IEnumerable<Measurement<long>> QueueSizes(StoreSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            yield break;
        }

        foreach (var queue in snapshot.Queues)
        {
            for (var i = 0; i < QueueStates.Length; i++)
            {
                yield return new Measurement<long>(Count(queue, QueueStates[i]), new TagList { { "queue", queue.Queue }, { "state", QueueStateNames[i] } });
            }
        }
    }

    private static long Count(QueueStats queue, JobState state) => state switch
    {
        JobState.Scheduled => queue.Scheduled,
        JobState.Pending => queue.Pending,
        JobState.Active => queue.Active,
        JobState.Retrying => queue.Retrying,
        JobState.Succeeded => queue.Succeeded,
        JobState.Partial => queue.Partial,
        JobState.Failed => queue.Failed,
        JobState.Waiting => queue.Waiting,
        _ => queue.Cancelled,
    };

    private static IEnumerable<Measurement<double>> QueueLatencies(StoreSnapshot? snapshot, DateTimeOffset now) =>
        snapshot is null
            ? []
            : snapshot.Queues.Select(q => new Measurement<double>(
                q.OldestPendingSince is { } since ? Math.Max(0, (now - since).TotalSeconds) : 0, new TagList { { "queue", q.Queue } }));

    private static IEnumerable<Measurement<int>> PausedQueues(StoreSnapshot? snapshot) =>
        snapshot is null ? [] : snapshot.Queues.Select(q => new Measurement<int>(q.Paused ? 1 : 0, new TagList { { "queue", q.Queue } }));

    internal void ScheduleFired(string schedule) => _scheduleFires.Add(1, new KeyValuePair<string, object?>("schedule", _schedules.Of(schedule)));

    /// <summary>
    /// Creates a schedule's series at 0 (fires, and misfires under its policy and, when it skips overlapping runs,
    /// <c>overlap</c>), so that increase() counts its first fire and a dashboard shows the schedule before it fires.
    /// </summary>
    internal void ScheduleStartAtZero(string schedule, string misfirePolicy, bool skipsOverlaps)
    {
        schedule = _schedules.Of(schedule);
        _scheduleFires.Add(0, new KeyValuePair<string, object?>("schedule", schedule));
        _scheduleMisfires.Add(0, new TagList { { "schedule", schedule }, { "policy", misfirePolicy } });
        if (skipsOverlaps)
        {
            _scheduleMisfires.Add(0, new TagList { { "schedule", schedule }, { "policy", "overlap" } });
        }
    }

    internal void ScheduleMisfired(string schedule, string policy, int ticks) =>
        _scheduleMisfires.Add(ticks, new TagList { { "schedule", _schedules.Of(schedule) }, { "policy", policy } });

    /// <summary>
    /// Counts an attempt in <c>job_in_progress</c> and returns its labels, for <see cref="JobProcessed"/>: a queue
    /// may become known or unknown while the attempt runs, and the count must go down in the series it went up in.
    /// </summary>
    internal TagList JobStarted(string jobType, string queue)
    {
        var tags = new TagList { { "task_type", _jobTypes.Of(jobType) }, { "queue", _queues.Of(queue) } };
        _inProgress.Add(1, tags);
        return tags;
    }

    /// <summary>Ends the attempt <paramref name="tags"/> (from <see cref="JobStarted"/>) names.</summary>
    internal void JobProcessed(TagList tags, string status, TimeSpan duration)
    {
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
        _queues.AddOwn(queues);
        foreach (var served in queues)
        {
            var queue = _queues.Of(served);
            foreach (var outcome in RecoveryOutcomes.All)
            {
                _leaseRecoveries.Add(0, new TagList { { "queue", queue }, { "outcome", outcome } });
            }

            _histogramsAtZero.TryAdd(("job_queue_wait_seconds", null, queue), [new("queue", queue)]);
            foreach (var jobType in jobTypes)
            {
                var type = _jobTypes.Of(jobType);
                var tags = new TagList { { "task_type", type }, { "queue", queue } };
                _histogramsAtZero.TryAdd(("job_duration_seconds", type, queue), [.. tags]);
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

    /// <summary>
    /// The histogram series <see cref="StartAtZero"/> names, which a histogram cannot create at 0 as a counter does (a
    /// measurement is an observation): the Prometheus endpoint writes them empty until their first observation, so that
    /// it is seen by rate() and increase() too.
    /// </summary>
    internal IEnumerable<(string Instrument, KeyValuePair<string, object?>[] Tags)> HistogramsAtZero =>
        _histogramsAtZero.Select(static p => (p.Key.Instrument, p.Value));

    internal void JobEnqueued(string jobType, string queue) =>
        _enqueued.Add(1, new TagList { { "task_type", _jobTypes.Of(jobType) }, { "queue", _queues.Of(queue) } });

    internal void JobRetryScheduled(string jobType, string queue) =>
        _retries.Add(1, new TagList { { "task_type", _jobTypes.Of(jobType) }, { "queue", _queues.Of(queue) } });

    internal void IdempotentSkipped(string jobType, string queue) =>
        _idempotentSkipped.Add(1, new TagList { { "task_type", _jobTypes.Of(jobType) }, { "queue", _queues.Of(queue) } });

    internal void IdempotencyUnavailable(string jobType, string queue, IdempotencyFailureMode mode) =>
        _idempotencyUnavailable.Add(1, new TagList { { "task_type", _jobTypes.Of(jobType) }, { "queue", _queues.Of(queue) }, { "mode", mode == IdempotencyFailureMode.FailOpen ? "open" : "closed" } });

    internal void JobSnoozed(string jobType, string queue, string reason) =>
        _snoozed.Add(1, new TagList { { "task_type", _jobTypes.Of(jobType) }, { "queue", _queues.Of(queue) }, { "reason", reason } });

    /// <summary>
    /// Counts a recovery by what became of its job: <c>requeued</c> (it runs again), <c>failed</c> (no attempt left, or
    /// past its deadline: a dead letter no worker counted as an attempt) or <c>cancelled</c> (its cancel was asked).
    /// </summary>
    internal void LeaseRecovered(string queue, JobState newState) =>
        _leaseRecoveries.Add(1, new TagList { { "queue", _queues.Of(queue) }, { "outcome", RecoveryOutcomes.Of(newState) } });

    internal void FireAndForgetDropped(string jobType, string queue, string reason, long count) =>
        _fireAndForgetDropped.Add(count, new TagList { { "task_type", _jobTypes.Of(jobType) }, { "queue", _queues.Of(queue) }, { "reason", reason } });

    /// <summary>
    /// Counts a store call that failed as unavailable (<see cref="JobStoreUnavailableException"/>), under one of the
    /// <see cref="StoreOperations"/>: what an operator alerts on when the store answers reads but refuses writes.
    /// </summary>
    internal void StoreUnavailable(string operation) => _storeUnavailable.Add(1, new KeyValuePair<string, object?>("operation", operation));

    /// <summary>Creates the operations' <c>job_store_unavailable_total</c> series at 0, so that increase() counts their first failure.</summary>
    internal void StoreUnavailableAtZero(IEnumerable<string> operations)
    {
        foreach (var operation in operations)
        {
            _storeUnavailable.Add(0, new KeyValuePair<string, object?>("operation", operation));
        }
    }

    internal void RetentionBacklog(long jobs) => _retentionBacklog.Record(jobs);

    internal void QueueWait(string queue, TimeSpan wait) =>
        _queueWait.Record(Math.Max(0, wait.TotalSeconds), new TagList { { "queue", _queues.Of(queue) } });
}
