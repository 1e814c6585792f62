using Conveyor.Configuration;

namespace Conveyor;

/// <summary>
/// Settings of the worker server, bound from <c>Conveyor:Server</c> and validated at start (a wrong value stops the
/// process with a message naming the setting and what it accepts).
/// </summary>
public sealed class JobServerOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Conveyor:Server";

    /// <summary>critical=6, default=3, low=1: under saturation they are served 6:3:1.</summary>
    public static IReadOnlyDictionary<string, int> DefaultQueues { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [QueueName.Critical] = 6,
        [QueueName.Default] = 3,
        [QueueName.Low] = 1,
    };

    /// <summary>The default of <see cref="ShutdownTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(30);
    /// <summary>The default of <see cref="LeaseDuration"/>: 4 seconds.</summary>
    public static readonly TimeSpan DefaultLeaseDuration = TimeSpan.FromSeconds(4);
    /// <summary>The default of <see cref="PollInterval"/>: 1 second.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Handlers running at once. Default: processor count × 10, because jobs mostly wait on I/O (databases, HTTP) and
    /// async handlers cost no thread while they wait; lower it for CPU-bound jobs.
    /// </summary>
    [SettingRange(1, 10_000, ErrorMessage = "Conveyor:Server:Concurrency must be between {1} and {2}.")]
    public int Concurrency { get; set; } = Environment.ProcessorCount * 10;

    /// <summary>
    /// Jobs leased ahead of the handlers, so that the next dequeue's round trip overlaps the running handlers instead
    /// of every worker waiting for it. Used only while handlers are short (on average under 50 ms, and the running
    /// ones so far): for long jobs leasing ahead gains nothing and would keep jobs from other idle servers, so a job
    /// leased ahead that waits longer than 50 ms for a worker is handed back (its attempt not counted). Default: null,
    /// meaning equal to <see cref="Concurrency"/>; 0 turns it off.
    /// </summary>
    [SettingRange(0, 10_000, ErrorMessage = "Conveyor:Server:Prefetch must be between {1} and {2}.")]
    public int? Prefetch { get; set; }

    /// <summary>
    /// Queue name → weight (1–1000). Empty means <see cref="DefaultQueues"/>. A configured map replaces the default
    /// instead of adding to it.
    /// </summary>
    [SettingValuesRange(1, Server.JobServerOptionsValidator.MaxWeight)]
    public Dictionary<string, int> Queues { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Serve queues strictly by weight: a lower queue runs only while every higher one is empty.</summary>
    public bool StrictPriority { get; set; }

    /// <summary>
    /// How long the server tries to open its store at start (retrying with backoff) before it stops with a message
    /// saying why: a wrong path or an unreachable address is seen at once. Only a <see cref="Storage.JobStoreUnavailableException"/>
    /// is retried; any other failure of the store's <see cref="Storage.IJobStore.InitializeAsync"/> (a file that is not a
    /// database, a wrong password) stops the start at once. Default 15 s.
    /// </summary>
    [SettingRange("00:00:00", "01:00:00", ErrorMessage = "Conveyor:Server:StoreStartTimeout must be between {1} and {2}.")]
    public TimeSpan StoreStartTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Start even when the store cannot be reached (a <see cref="Storage.JobStoreUnavailableException"/>), and keep retrying
    /// in the background (readiness answers 503 until it can): for workers started together with their store, as in a
    /// container group. A failure that waiting cannot heal still stops the start. Default false.
    /// </summary>
    public bool StartWithoutStore { get; set; }

    /// <summary>How long running handlers get to finish at shutdown before they are cancelled and their jobs returned. Default 30 s.</summary>
    [SettingRange("00:00:00", "01:00:00", ErrorMessage = "Conveyor:Server:ShutdownTimeout must be between {1} and {2}.")]
    public TimeSpan ShutdownTimeout { get; set; } = DefaultShutdownTimeout;

    /// <summary>
    /// Lease on a running job, renewed every third of it. A killed worker's jobs run again within about this long
    /// plus one <see cref="RecoverInterval"/>. Default 4 s.
    /// </summary>
    [SettingRange("00:00:00.200", "01:00:00", ErrorMessage = "Conveyor:Server:LeaseDuration must be between {1} and {2}.")]
    public TimeSpan LeaseDuration { get; set; } = DefaultLeaseDuration;

    /// <summary>How often an idle server looks for jobs enqueued by processes that cannot signal it. Default 1 s.</summary>
    [SettingRange("00:00:00.010", "00:10:00", ErrorMessage = "Conveyor:Server:PollInterval must be between {1} and {2}.")]
    public TimeSpan PollInterval { get; set; } = DefaultPollInterval;

    /// <summary>How often expired leases are looked for. Default 1 s.</summary>
    [SettingRange("00:00:00.050", "00:10:00", ErrorMessage = "Conveyor:Server:RecoverInterval must be between {1} and {2}.")]
    public TimeSpan RecoverInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often due scheduled and retrying jobs are moved to their queues. Default 1 s.</summary>
    [SettingRange("00:00:00.050", "00:10:00", ErrorMessage = "Conveyor:Server:PromoteInterval must be between {1} and {2}.")]
    public TimeSpan PromoteInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often finished jobs past their retention are deleted. Default 1 s: each run deletes until it has caught
    /// up, so the jobs waiting for deletion are about this long's worth of finishes.
    /// </summary>
    [SettingRange("00:00:00.050", "1.00:00:00", ErrorMessage = "Conveyor:Server:JanitorInterval must be between {1} and {2}.")]
    public TimeSpan JanitorInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most acknowledgements written in one round trip. Default 500.</summary>
    [SettingRange(1, 10_000, ErrorMessage = "Conveyor:Server:AcknowledgementBatchSize must be between {1} and {2}.")]
    public int AcknowledgementBatchSize { get; set; } = 500;

    /// <summary>
    /// What to do with a job whose type has no handler in this server: <see cref="UnknownJobTypeAction.Snooze"/> it
    /// (default) so that a server that handles the type runs it, or <see cref="UnknownJobTypeAction.Fail"/> it for good.
    /// </summary>
    public UnknownJobTypeAction UnknownJobTypes { get; set; } = UnknownJobTypeAction.Snooze;

    /// <summary>First wait of a snoozed job of an unknown type; later waits grow with its age. Default 30 s.</summary>
    [SettingRange("00:00:01", "1.00:00:00", ErrorMessage = "Conveyor:Server:UnknownJobTypeDelay must be between {1} and {2}.")]
    public TimeSpan UnknownJobTypeDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait of a snoozed job of an unknown type. Default 10 min.</summary>
    [SettingRange("00:00:01", "1.00:00:00", ErrorMessage = "Conveyor:Server:UnknownJobTypeMaxDelay must be between {1} and {2}.")]
    public TimeSpan UnknownJobTypeMaxDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Run the scheduler in this server: it enqueues the job of every schedule's tick (any number of servers may run
    /// it: each tick still gets one job). Default true.
    /// </summary>
    public bool RunScheduler { get; set; } = true;

    /// <summary>
    /// How often the scheduler reads the store for schedules changed by other processes. Ticks it already knows of
    /// are fired at their instant, not at this interval. Default 1 s.
    /// </summary>
    [SettingRange("00:00:00.050", "00:10:00", ErrorMessage = "Conveyor:Server:SchedulePollInterval must be between {1} and {2}.")]
    public TimeSpan SchedulePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How late a tick may be handled and still count as on time; older ticks are misfires, handled by the schedule's
    /// <see cref="MisfirePolicy"/>. Default 1 min.
    /// </summary>
    [SettingRange("00:00:01", "1.00:00:00", ErrorMessage = "Conveyor:Server:ScheduleMisfireThreshold must be between {1} and {2}.")]
    public TimeSpan ScheduleMisfireThreshold { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Most catch-up runs a schedule with <see cref="MisfirePolicy.All"/> gets for one outage. Default 100.</summary>
    [SettingRange(1, 10_000, ErrorMessage = "Conveyor:Server:ScheduleMaxCatchUpRuns must be between {1} and {2}.")]
    public int ScheduleMaxCatchUpRuns { get; set; } = 100;

    /// <summary>
    /// The level of the log line of an attempt that succeeded: <see cref="Microsoft.Extensions.Logging.LogLevel.Debug"/>
    /// (default) or <see cref="Microsoft.Extensions.Logging.LogLevel.Information"/>. Retries are logged at Warning and
    /// failures for good at Error whatever this says.
    /// </summary>
    public Microsoft.Extensions.Logging.LogLevel SuccessLogLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Debug;

    /// <summary><see cref="Prefetch"/>, or <see cref="Concurrency"/> when it is not set.</summary>
    public int EffectivePrefetch => Prefetch ?? Concurrency;

    /// <summary>The queues served, with <see cref="DefaultQueues"/> when none is configured.</summary>
    public IReadOnlyDictionary<string, int> EffectiveQueues => Queues.Count == 0 ? DefaultQueues : Queues;
}
