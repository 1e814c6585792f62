using System.ComponentModel.DataAnnotations;

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
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Conveyor:Metrics:StoreGaugesInterval must be between {1} and {2}.")]
    public TimeSpan StoreGaugesInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long one read of the store may take before the gauges are left out (and <c>job_store_up</c> is 0) until
    /// the next successful read. 100 ms – 30 s, default 3 s: well under Prometheus's default scrape timeout (10 s).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:00:30", ErrorMessage = "Conveyor:Metrics:StoreTimeout must be between {1} and {2}.")]
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(3);
}
