using System.Threading.Channels;
using Conveyor.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor;

/// <summary>
/// The worker server, registered by <c>AddConveyor(...).AddServer()</c> as an <see cref="IHostedService"/>: a
/// fetcher that leases jobs in batches, <see cref="JobServerOptions.Concurrency"/> workers that run them through the
/// middleware pipeline, a batcher that acknowledges them, and the background components that keep leases alive,
/// recover dead workers' jobs, promote due jobs, delete expired ones and announce the server.
/// </summary>
public sealed partial class JobServer : IHostedService, IAsyncDisposable
{
    private readonly IJobStore _store;
    private readonly Server.Processor _processor;
    private readonly Server.JobReadySignal _readySignal;
    private readonly Server.PromotionAlarm _promotionAlarm;
    private readonly ConveyorMetrics _metrics;
    private readonly IRegisteredJobTypes _jobTypes;
    private readonly JobServerOptions _options;
    private readonly ConveyorRetentionOptions _retention;
    private readonly Limits.LimitsInForce _limitsInForce;
    private readonly Limits.ServedLimits _limits;
    private readonly Limits.ServedLimitsInProcess? _servedLimitsInProcess;

    // The served queues taken in turns between tenants (Conveyor:Limits:FairQueues); empty when none is configured.
    private readonly string[] _fairQueues;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<JobServer> _logger;
    private readonly IJobClient _client;
    private readonly IServiceProvider _services;
    private readonly Server.HeldJobs _held = new();
    private readonly Server.HandlerPace _pace;
    private readonly Channel<Server.RunningJob> _buffer;
    private readonly SemaphoreSlim _freeSlots;
    private readonly DateTimeOffset _startedAt;
    private readonly CancellationTokenSource _stopFetching = new();
    private readonly CancellationTokenSource _shutdownRequested = new();
    private readonly CancellationTokenSource _graceCutShort = new();
    private readonly CancellationTokenSource _stopComponents = new();
    private readonly CancellationTokenSource _abandon = new();
    private Server.AcknowledgementBatcher? _batcher;
    private Server.LeaseReconciler? _leaseReconciler;
    private Task? _fetcher;
    private Task[] _workers = [];
    private Task? _leaseExtender;
    private Task[] _components = [];
    private Task? _storeOpening;
    private bool _storeWasAwayAtStart;
    private Task? _batcherTask;
    private volatile bool _stopping;
    private Server.ServerHeartbeat? _heartbeat;
    private IDisposable? _cancellationSubscription;

    internal JobServer(
        IJobStore store,
        Server.Processor processor,
        Server.JobReadySignal readySignal,
        ConveyorMetrics metrics,
        IRegisteredJobTypes jobTypes,
        IOptions<JobServerOptions> options,
        IOptions<ConveyorOptions> conveyorOptions,
        TimeProvider timeProvider,
        ILogger<JobServer> logger,
        IJobClient client,
        IServiceProvider services)
    {
        _client = client;
        _services = services;
        _store = store;
        _processor = processor;
        _readySignal = readySignal;
        _metrics = metrics;
        _jobTypes = jobTypes;
        _options = options.Value;
        _retention = conveyorOptions.Value.Retention;
        _fairQueues = conveyorOptions.Value.Limits?.FairQueues is { Count: > 0 } fair
            ? fair.Where(_options.EffectiveQueues.ContainsKey).Distinct(StringComparer.Ordinal).ToArray()
            : [];
        _timeProvider = timeProvider;
        _promotionAlarm = services.GetService(typeof(Server.PromotionAlarm)) as Server.PromotionAlarm ?? new();
        _limitsInForce = services.GetService(typeof(Limits.LimitsInForce)) as Limits.LimitsInForce ?? new Limits.LimitsInForce(conveyorOptions);
        _limits = new Limits.ServedLimits(_limitsInForce, _options.EffectiveQueues.Keys, store, timeProvider, _promotionAlarm);
        _servedLimitsInProcess = services.GetService(typeof(Limits.ServedLimitsInProcess)) as Limits.ServedLimitsInProcess;
        _servedLimitsInProcess?.Add(_limits, logger);
        _logger = logger;
        var slots = _options.Concurrency + _options.EffectivePrefetch;
        _buffer = Channel.CreateBounded<Server.RunningJob>(new BoundedChannelOptions(slots)
        {
            // The fetcher, and the acknowledgement batcher for the jobs its acknowledgements release.
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _freeSlots = new SemaphoreSlim(slots, slots);
        _pace = new Server.HandlerPace(_options.Concurrency, timeProvider);
        _startedAt = timeProvider.GetUtcNow();
        ServerId = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>
    /// How long the recoverer leaves expired leases after an outage: a lease, and at least long enough for a holder's
    /// acknowledgement to be retried twice after the store's return (the first call may meet a dead connection).
    /// </summary>
    private TimeSpan RecoveryPauseAfterOutage => TimeSpan.FromTicks(Math.Max(_options.LeaseDuration.Ticks, ((2 * Server.Backoff.Max) + _options.RecoverInterval).Ticks));

    /// <summary>This server's id in the store's server list: host, process id and a random suffix.</summary>
    public string ServerId { get; }

    /// <summary>Jobs leased and not yet acknowledged.</summary>
    public int HeldJobCount => _held.Count;

    /// <summary>Whether the workers run: started, and not stopping.</summary>
    internal bool IsRunning => _fetcher is not null && !_stopping;

    /// <summary>What hands back the leases of lease-taking calls whose answer was lost; null before the start.</summary>
    internal Server.LeaseReconciler? LeaseReconciler => _leaseReconciler;

    /// <summary>When the store last accepted this server's heartbeat; null before the first.</summary>
    internal DateTimeOffset? LastHeartbeatAt => _heartbeat?.LastBeatAt;

    /// <summary>Starts the workers, the heartbeat and the maintenance loops; returns once they run.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Bad schedule definitions stop the start before anything is written.
        var schedules = _options.RunScheduler ? Scheduling.ScheduleReconciler.Validate(_services, _jobTypes, _timeProvider.GetUtcNow()) : null;
        // At 0 before the first call, which may fail: increase() over a series that begins at 1 misses that failure.
        _metrics.StoreUnavailableAtZero(StoreOperations.Server);
        await OpenStoreAsync(cancellationToken).ConfigureAwait(false);
        var queues = _options.EffectiveQueues;
        var selector = new Server.WeightedQueueSelector(queues, _options.StrictPriority);
        var limitsRefresher = new Server.LimitsRefresher(_store, _limitsInForce, _limitsInForce.Configured.RefreshInterval, _timeProvider, _logger, _limits) { Metrics = _metrics };
        await SeedLimitsAsync(limitsRefresher, cancellationToken).ConfigureAwait(false);
        var scheduler = schedules is null ? null : new Server.Scheduler(_store, _client, _metrics, _options, schedules, _timeProvider, _logger) { Metrics = _metrics };
        if (scheduler is not null && _storeOpening is null)
        {
            await ReconcileSchedulesAsync(scheduler, cancellationToken).ConfigureAwait(false);
        }

        // With slots to lease ahead, a job may wait in the buffer while every worker is busy: the watch hands back one that
        // waits longer than a short handler. Without them, a job in the buffer has a worker that is about to read it.
        var leasedAhead = _options.EffectivePrefetch > 0 ? new Server.LeasedAheadHandBack(_buffer.Writer, _held, _pace, HandBack, _timeProvider) : null;
        var bufferWriter = (ChannelWriter<Server.RunningJob>?)leasedAhead ?? _buffer.Writer;
        var handOff = new Server.ReleasedJobHandOff(_freeSlots, _held, bufferWriter, queues, ServerId, _options.LeaseDuration,
            enabled: () => !_stopping && _fairQueues.Length == 0 && _limits.Concurrency.Count == 0 && _limits.Rate is null,
            handBack: ack => _batcher!.Add(ack), _stopFetching.Token);
        // Listings every lease-extension interval, until one begun a whole lease after the last failure finds nothing: a
        // lost call applied later than that leases a job whose lease has expired already, which the recoverer takes.
        // Lease-taking calls wait for a listing at most a tenth of a lease (400 ms by default): a store that answers
        // lists in milliseconds, and the stores' own call timeouts (seconds) would stall the fetcher for longer than a
        // listing is worth.
        var leaseReconciler = _leaseReconciler = new Server.LeaseReconciler(_store, _held, _readySignal, ServerId, _options.LeaseDuration / 3, _options.LeaseDuration, _options.LeaseDuration / 10, _timeProvider, _logger);
        _batcher = new Server.AcknowledgementBatcher(_store, _held, _readySignal, _options.AcknowledgementBatchSize, _timeProvider, _logger, signalFreedSlots: () => _limits.Concurrency.Count > 0, handOff, _promotionAlarm, _options.PromoteInterval, leaseReconciler, _metrics);
        var fetcher = new Server.Fetcher(_store, selector, _freeSlots, _held, bufferWriter, _readySignal, _pace, ServerId, _options, _timeProvider, _logger, _limits, _fairQueues, leaseReconciler, _metrics);

        _batcherTask = Task.Run(() => _batcher.RunAsync(_abandon.Token), CancellationToken.None);
        var leaseExtender = new Server.LeaseExtender(_store, _held, ServerId, _options.LeaseDuration, _timeProvider, _logger) { Metrics = _metrics };
        _leaseExtender = Task.Run(() => leaseExtender.RunAsync(_abandon.Token), CancellationToken.None);
        _components =
        [
            Task.Run(() => new Server.Recoverer(_store, _readySignal, _metrics, _options.RecoverInterval, _timeProvider, _logger, leaseExtender, RecoveryPauseAfterOutage, pausedAtStart: _storeWasAwayAtStart) { Metrics = _metrics }.RunAsync(_stopComponents.Token), CancellationToken.None),
            Task.Run(() => new Server.Promoter(_store, _readySignal, _promotionAlarm, _options.PromoteInterval, _timeProvider, _logger) { Metrics = _metrics }.RunAsync(_stopComponents.Token), CancellationToken.None),
            Task.Run(() => new Server.Janitor(_store, ServerId, _metrics, _options.JanitorInterval, _timeProvider, _logger, _retention, queues.Keys) { Metrics = _metrics }.RunAsync(_stopComponents.Token), CancellationToken.None),
            Task.Run(() => RunHeartbeatAsync(_stopComponents.Token), CancellationToken.None),
            Task.Run(() => limitsRefresher.RunAsync(_stopComponents.Token), CancellationToken.None),
            Task.Run(() => leaseReconciler.RunAsync(_stopComponents.Token), CancellationToken.None),
            .. leasedAhead is null ? Array.Empty<Task>() : [Task.Run(() => leasedAhead.RunAsync(_stopComponents.Token), CancellationToken.None)],
            .. _storeOpening is null ? Array.Empty<Task>() : [_storeOpening],
            .. scheduler is null ? Array.Empty<Task>() : [Task.Run(() => scheduler.RunAsync(_stopComponents.Token), CancellationToken.None)],
        ];
        // Dashboards use increase() and rate(), which need a series to exist before its first event to count it; and the
        // server's queues are named in the labels before a worker can start a job of them.
        _metrics.StartAtZero(_jobTypes.JobTypes, selector.Queues);
        _workers = new Task[_options.Concurrency];
        for (var i = 0; i < _workers.Length; i++)
        {
            var worker = i;
            _workers[i] = Task.Run(() => RunWorkerAsync(worker), CancellationToken.None);
        }

        if (_store is IJobCancellationSignal cancellationSignal)
        {
            _cancellationSubscription = cancellationSignal.SubscribeToCancellations(OnCancelRequested);
        }

        _fetcher = Task.Run(() => fetcher.RunAsync(_stopFetching.Token), CancellationToken.None);
        Log.ServerStarted(_logger, ServerId, _store.Name, _options.Concurrency, string.Join(", ", selector.Queues.Select(q => $"{q}={queues[q]}")));
    }

    /// <summary>
    /// Opens the store (schema, connections) before any worker runs. A store that stays unavailable for
    /// <see cref="JobServerOptions.StoreStartTimeout"/> stops the start with a message saying why, so that a wrong path
    /// or address is seen at once, unless <see cref="JobServerOptions.StartWithoutStore"/> asks to start anyway and
    /// keep retrying (readiness stays unready meanwhile). A failure the store does not call unavailable stops the start
    /// at once, whatever the settings.
    /// </summary>
    private async Task OpenStoreAsync(CancellationToken cancellationToken)
    {
        var backoff = default(Server.Backoff);
        var started = _timeProvider.GetTimestamp();
        while (true)
        {
            try
            {
                // One try is not cut short by the timeout: a migration may hold it for minutes, and servers starting
                // together wait for it behind its lock. What bounds a try against a store that is away is the store
                // client's own timeouts (Redis: connectTimeout and syncTimeout in its configuration string).
                await _store.InitializeAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not (ObjectDisposedException or JobStoreUnavailableException))
            {
                // Stores wrap what may pass in JobStoreUnavailableException; anything else (a file that is not a
                // database, a wrong password, a schema newer than this version) does not heal by waiting.
                throw new JobStoreUnavailableException($"The {_store.Name} store cannot be opened: {e.Message}", e);
            }
            catch (JobStoreUnavailableException e) when (!cancellationToken.IsCancellationRequested)
            {
                // Other servers' leases may have run out meanwhile: the recoverer gives their holders time first.
                _storeWasAwayAtStart = true;
                _metrics.StoreUnavailable(StoreOperations.Start);
                if (_options.StartWithoutStore)
                {
                    // The fetcher and every component back off until the store answers, and the store is opened then:
                    // a new database gets its schema, and the store its listeners, without a restart.
                    Log.StoreUnavailable(_logger, e, _store.Name, "start", 0);
                    _storeOpening = Task.Run(OpenWhenAvailableAsync, CancellationToken.None);
                    return;
                }

                var delay = backoff.Next();
                var elapsed = _timeProvider.GetElapsedTime(started);
                if (elapsed + delay > _options.StoreStartTimeout)
                {
                    // A try may outlast the timeout (above): the time it took is said when it did.
                    var took = elapsed > _options.StoreStartTimeout ? $"; the tries took {elapsed.TotalSeconds:0.#} s" : "";
                    throw new JobStoreUnavailableException(
                        $"The {_store.Name} store could not be opened within {_options.StoreStartTimeout.TotalSeconds:0.###} s (Conveyor:Server:StoreStartTimeout{took}): {e.Message} " +
                        "Set Conveyor:Server:StartWithoutStore=true to start anyway and keep retrying.", e);
                }

                if (backoff.IsWorthLogging)
                {
                    Log.StoreUnavailable(_logger, e, _store.Name, "start", (int)delay.TotalMilliseconds);
                }

                await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Opens the store once it answers, for a server started without it. A failure that waiting cannot heal is logged:
    /// the components that need the store report it as they meet it, and a restart after the fix opens it.
    /// </summary>
    private async Task OpenWhenAvailableAsync()
    {
        if (await Server.StoreOpener.OpenWhenAvailableAsync(_store, _timeProvider, _logger, _metrics, _stopComponents.Token).ConfigureAwait(false) is { } failure)
        {
            Log.StoreCannotBeOpened(_logger, failure, _store.Name);
        }
    }

    /// <summary>
    /// The schedules from code and configuration are in the store when the start returns (an application that reads
    /// one right after its host started found none on a new store); a store that fails the write leaves them to the
    /// scheduler's passes, which try again.
    /// </summary>
    private async Task ReconcileSchedulesAsync(Server.Scheduler scheduler, CancellationToken cancellationToken)
    {
        try
        {
            await scheduler.ReconcileDefinedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (JobStoreUnavailableException e) when (!cancellationToken.IsCancellationRequested)
        {
            Log.StoreUnavailable(_logger, e, _store.Name, "write the schedules", (int)_options.SchedulePollInterval.TotalMilliseconds);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not ObjectDisposedException)
        {
            Log.ComponentFailed(_logger, e, "Scheduler's write of the schedules from code and configuration at start");
        }
    }

    /// <summary>
    /// Writes the configured limits to the store and reads the limits in force before the first dequeue. A store that
    /// does not answer leaves the configured limits in force; the refresher tries again at every tick.
    /// </summary>
    private async Task SeedLimitsAsync(Server.LimitsRefresher refresher, CancellationToken cancellationToken)
    {
        try
        {
            await refresher.SeedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not ObjectDisposedException)
        {
            if (e is JobStoreUnavailableException)
            {
                _metrics.StoreUnavailable(StoreOperations.Limits);
            }

            Log.StoreUnavailable(_logger, e, _store.Name, "read the limits", (int)_limitsInForce.Configured.RefreshInterval.TotalMilliseconds);
        }
    }

    private async Task RunWorkerAsync(int worker)
    {
        var reader = _buffer.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var run))
            {
                if (!run.TryLeaveBuffer())
                {
                    // Handed back while it waited for a worker (LeasedAheadHandBack): only its slot is left to free.
                    _freeSlots.Release();
                    continue;
                }

                var started = _timeProvider.GetTimestamp();
                _pace.Began(worker, started);
                try
                {
                    await RunOneAsync(run).ConfigureAwait(false);
                }
                finally
                {
                    _pace.Ended(worker);
                    if (run.Started)
                    {
                        // Only handlers that ran say how long jobs take: a hand-back or a lost lease returns at once.
                        _pace.Record(_timeProvider.GetElapsedTime(started));
                    }

                    if (run.Started && run.Reason != Server.StopReason.LeaseLost && MayFillAConcurrencyLimit(run.Job))
                    {
                        _ = FreeSlotOnceStoredAsync(run);
                    }
                    else
                    {
                        _freeSlots.Release();
                    }
                }
            }
        }
    }

    /// <summary>
    /// The slot of a job that may fill a concurrency limit is freed once its end is stored, not when its handler
    /// returns: the store counts the job as running until then, so the dequeue the freed slot starts would find the
    /// limit full, lease another queue's job into it, and the limit's next job would wait for a whole job to end (an
    /// outside run: a slot of a limit of one idle for a 2 s job in up to 3 of 5 hand-overs). Bounded by
    /// <see cref="SlotWaitForStoredEnd"/>, for an end the store does not take.
    /// </summary>
    private async Task FreeSlotOnceStoredAsync(Server.RunningJob run)
    {
        try
        {
            await run.WhenEndSettled.WaitAsync(SlotWaitForStoredEnd, _timeProvider).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            _freeSlots.Release();
        }
    }

    /// <summary>The longest a slot of a job that may fill a concurrency limit waits for the job's end to be stored.</summary>
    internal static readonly TimeSpan SlotWaitForStoredEnd = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether a concurrency limit counting the job holds, with it, as many jobs this server holds as it allows (per
    /// tenant when partitioned): only then can the job's unstored end keep the next dequeue from the limit. A limit far
    /// from full (a cap) frees its slots at once, so that its acknowledgement still runs beside the next dequeue.
    /// </summary>
    private bool MayFillAConcurrencyLimit(LeasedJob job)
    {
        foreach (var rule in _limits.Concurrency)
        {
            if (!rule.Matches(job.Queue, job.Type))
            {
                continue;
            }

            var held = 0;
            foreach (var other in _held.All)
            {
                if (rule.Matches(other.Job.Queue, other.Job.Type) && (!rule.PerTenant || string.Equals(other.Job.Tenant, job.Tenant, StringComparison.Ordinal)) && ++held >= rule.Max)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private async Task RunOneAsync(Server.RunningJob run)
    {
        if (run.Reason == Server.StopReason.LeaseLost)
        {
            return;
        }

        if (_stopping)
        {
            // Fetched but never started: hand it back at once rather than start work the grace period may cut short.
            HandBack(run);
            return;
        }

        if (_timeProvider.GetUtcNow() > run.LeaseHeldUntil)
        {
            // Its lease could not be extended while it waited (the store was away): another server may have it by now.
            // Not started, it is handed back, which the store applies only if the lease is still this server's.
            HandBack(run);
            return;
        }

        JobAcknowledgement? ack;
        try
        {
            ack = await _processor.ProcessAsync(run, _shutdownRequested.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Only a bug in the server itself gets here. Stop extending the job's lease so that it expires and the
            // recoverer runs the job again; kept in the held set, it would stay active forever.
            Log.ComponentFailed(_logger, e, "Worker");
            _held.LetLapse(run.Job.Id, run.Job.LeaseToken);
            run.EndSettled();
            return;
        }

        if (ack is null && run.ParkedUntil is { } parkedUntil)
        {
            // The store parked the job in the attempt's last call, which ended its lease.
            _held.Remove(run.Job.Id, run.Job.LeaseToken);
            run.EndSettled();

            // A park that ends before the promoter's next tick (a short sleep beside a long wait) is promoted at its time,
            // as a stored snooze is (AcknowledgementBatcher), not up to a PromoteInterval late.
            if (parkedUntil < _timeProvider.GetUtcNow() + _options.PromoteInterval)
            {
                _promotionAlarm.RingAt(parkedUntil);
            }
        }
        else if (ack is null)
        {
            // Nothing to record (the lease was lost), or a wait the store may not have recorded: if the lease is still
            // this server's, it expires and the recoverer takes the job. Its slot in a limit is held until then whatever
            // this server waits for.
            _held.LetLapse(run.Job.Id, run.Job.LeaseToken);
            run.EndSettled();
        }
        else if (run.TryClaimOutcome())
        {
            // The end of a batch member when no fetched job waits to start here may be the one that finishes its batch:
            // it is written beside the call in flight (AcknowledgementBatcher). While fetched jobs wait, the server is in
            // the middle of a drain, and the end waits as every other does, so the batches stay whole.
            _batcher!.Add(ack, besideCallInFlight: run.Job.BatchId is not null && _buffer.Reader.Count == 0
                && ack.Outcome is AckOutcome.Succeeded or AckOutcome.Partial or AckOutcome.Failed or AckOutcome.Cancelled);
        }
    }

    /// <summary>Returns a job that was fetched but never started to its queue, without counting the attempt.</summary>
    private void HandBack(Server.RunningJob run) =>
        _batcher!.Add(new JobAcknowledgement { JobId = run.Job.Id, LeaseToken = run.Job.LeaseToken, Outcome = AckOutcome.Released });

    private void OnCancelRequested(string jobId)
    {
        if (_held.TryGet(jobId, out var run))
        {
            run.Stop(Server.StopReason.CancelRequested);
        }
    }

    private async Task RunHeartbeatAsync(CancellationToken cancellationToken)
    {
        // The first beat at once, through the tick, so that a store away at start is one outage warning, as later.
        var heartbeat = _heartbeat = new Server.ServerHeartbeat(_store, DescribeServer, _timeProvider, _logger) { Metrics = _metrics };
        await heartbeat.TickAsync(cancellationToken).ConfigureAwait(false);
        await heartbeat.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    private ServerInfo DescribeServer()
    {
        var now = _timeProvider.GetUtcNow();
        return new ServerInfo
        {
            Id = ServerId,
            Host = Environment.MachineName,
            ProcessId = Environment.ProcessId,
            Queues = _options.EffectiveQueues,
            Concurrency = _options.Concurrency,
            // Jobs leased ahead are held but not running yet.
            ActiveJobs = _held.All.Count(static r => r.Started),
            StartedAt = _startedAt,
            LastHeartbeatAt = now,
            ExpiresAt = now + Server.ServerHeartbeat.Expiry,
        };
    }
}
