using Conveyor.Configuration;

namespace Conveyor;

/// <summary>
/// The store-derived gauges of the "Conveyor" meter (jobs per queue and state, queue latency, paused queues, servers
/// alive), bound from <c>Conveyor:Metrics</c>. They cost store reads, so only the servers that opt in publish them:
/// one or two per fleet are enough, since every server reads the same store.
/// </summary>
public sealed class ConveyorMetricsOptions
{
    /// <summary>
    /// Publishes the store-derived gauges from this process. Default false in the library (a fleet of worker apps
    /// does not run one set of store reads each); the Conveyor.Server host turns it on in its appsettings.json.
    /// </summary>
    public bool StoreGauges { get; set; }

    /// <summary>
    /// The store is read at most once per interval, however many scrapes or collections ask; between reads they see
    /// the cached figures. 1 s – 1 hour, default 15 s (Prometheus's usual scrape interval).
    /// </summary>
    [SettingRange("00:00:01", "01:00:00", ErrorMessage = "Conveyor:Metrics:StoreGaugesInterval must be between {1} and {2}.")]
    public TimeSpan StoreGaugesInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long one read of the store may take before the gauges are left out (and <c>job_store_up</c> is 0) until
    /// the next successful read. 100 ms – 30 s, default 3 s: well under Prometheus's default scrape timeout (10 s).
    /// </summary>
    [SettingRange("00:00:00.1", "00:00:30", ErrorMessage = "Conveyor:Metrics:StoreTimeout must be between {1} and {2}.")]
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The most distinct <c>task_type</c> label values this process's counters and histograms carry; measurements of
    /// further job types are recorded under <c>task_type="other"</c>, so that a flood of distinct types (an application
    /// enqueuing generated type names, jobs of unknown types snoozed by a worker) cannot grow the series without limit.
    /// The types a worker server handles are labelled first, at its start. 10 – 100,000, default 1000.
    /// </summary>
    [SettingRange(10, 100_000, ErrorMessage = "Conveyor:Metrics:MaxJobTypes must be between {1} and {2}.")]
    public int MaxJobTypes { get; set; } = 1000;

    /// <summary>
    /// The most distinct <c>schedule</c> label values this process's schedule counters carry; fires and misfires of
    /// further schedules are counted under <c>schedule="(other)"</c>, so that a tenant creating schedules over the API
    /// without end cannot grow the series without limit. 10 – 100,000, default 1000.
    /// </summary>
    [SettingRange(10, 100_000, ErrorMessage = "Conveyor:Metrics:MaxSchedules must be between {1} and {2}.")]
    public int MaxSchedules { get; set; } = 1000;

    /// <summary>
    /// The most queues the <c>queue</c> label names. A queue is labelled by its name only when it is known: the default
    /// queue, a queue a server of this process serves, or one a live server of the registry serves; any other queue
    /// (one a Jobs API caller made up) is labelled <c>queue="(other)"</c>. This cap bounds the known queues too, for a
    /// registry whose servers serve very many: past it, the first in ordinal order keep their names, in every process
    /// alike (give every process the same value). 10 – 100,000, default 1000.
    /// </summary>
    [SettingRange(10, 100_000, ErrorMessage = "Conveyor:Metrics:MaxQueues must be between {1} and {2}.")]
    public int MaxQueues { get; set; } = 1000;
}
