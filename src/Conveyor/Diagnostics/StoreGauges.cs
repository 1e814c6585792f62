using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conveyor.Diagnostics;

/// <summary>
/// The figures behind the store-derived gauges of <see cref="ConveyorMetrics"/>, read from the store at most once per
/// <see cref="ConveyorMetricsOptions.StoreGaugesInterval"/> and cached. A collection (a <c>/metrics</c> scrape, an
/// OpenTelemetry reader, <c>dotnet-counters</c>) only reads the cache; when the cache is due it starts one read in the
/// background (never two at once), which the scrape may await for at most <see cref="ConveyorMetricsOptions.StoreTimeout"/>.
/// A read that fails or outlasts that bound leaves the gauges out until the next read succeeds.
/// </summary>
internal sealed partial class StoreGauges
{
    private readonly IServiceProvider? _services;
    private readonly TimeProvider _timeProvider;
    private readonly ConveyorMetricsOptions _options;
    private readonly ILogger _logger;
    private readonly QueueLabels? _queues;
    private readonly Lock _gate = new();
    private Task? _reading;
    private long _readStartedAt;
    private bool _hasRead;
    private bool _lastReadFailed;

    // The read in flight that a scrape gave up waiting for: its figures may be stale from then on.
    private volatile Task? _givenUp;

    public StoreGauges(IServiceProvider services, TimeProvider timeProvider, IOptions<ConveyorOptions> options, QueueLabels queues, ILogger<StoreGauges>? logger = null)
    {
        _services = services;
        _timeProvider = timeProvider;
        _options = options.Value.Metrics;
        _queues = queues;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    private StoreGauges(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _options = new ConveyorMetricsOptions();
        _logger = NullLogger.Instance;
    }

    /// <summary>Gauges that publish nothing: for a <see cref="ConveyorMetrics"/> made without dependency injection.</summary>
    public static StoreGauges Disabled { get; } = new(TimeProvider.System);

    /// <summary>Whether this process publishes the store-derived gauges (<see cref="ConveyorMetricsOptions.StoreGauges"/>).</summary>
    public bool Enabled => _services is not null && _options.StoreGauges;

    public TimeSpan StoreTimeout => _options.StoreTimeout;

    /// <summary>The metrics settings of this process (<see cref="ConveyorMetricsOptions.MaxJobTypes"/> for the counters).</summary>
    public ConveyorMetricsOptions Options => _options;

    public DateTimeOffset Now => _timeProvider.GetUtcNow();

    /// <summary>The figures of the last read, or null when there has been none yet or the last one failed.</summary>
    public StoreSnapshot? Current { get; private set; }

    /// <summary>
    /// What a collection reads: the cached figures, or null when they are unknown. Starts a read in the background when
    /// the cache is due, without waiting for it. While a read is in flight the previous figures stand until the read
    /// outlasts <see cref="ConveyorMetricsOptions.StoreTimeout"/>; from then on they may be stale, so they are left out.
    /// </summary>
    public StoreSnapshot? Observe()
    {
        if (!Enabled)
        {
            return null;
        }

        var reading = ReadIfDue();
        // The scrape that gave up on this read, and the read's own bound, fire at the same instant: whichever runs
        // first, a read past its bound must not leave the figures before it served as if they were fresh. The scrape's
        // timer may also end its wait a little before the bound by the clock (a timer counts whole milliseconds): a
        // read it gave up on counts as past its bound.
        if (reading is { IsCompleted: false }
            && (ReferenceEquals(_givenUp, reading) || _timeProvider.GetElapsedTime(Volatile.Read(ref _readStartedAt)) >= _options.StoreTimeout))
        {
            return null;
        }

        return Current;
    }

    /// <summary>
    /// For a scrape: starts a read when the cache is due and waits for the read in flight, if any, until
    /// <see cref="ConveyorMetricsOptions.StoreTimeout"/> after it started. Never throws for the store's faults.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return;
        }

        var reading = ReadIfDue();
        if (reading is null || reading.IsCompleted)
        {
            return;
        }

        var left = _options.StoreTimeout - _timeProvider.GetElapsedTime(Volatile.Read(ref _readStartedAt));
        if (left <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await reading.WaitAsync(left, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The read goes on in the background and ends at its own bound; this scrape goes without it.
            _givenUp = reading;
        }
    }

    /// <summary>The read in flight or just started, or null when the cache is fresh.</summary>
    private Task? ReadIfDue()
    {
        lock (_gate)
        {
            if (_reading is { IsCompleted: false })
            {
                return _reading;
            }

            if (_hasRead && _timeProvider.GetElapsedTime(_readStartedAt) < _options.StoreGaugesInterval)
            {
                return null;
            }

            _hasRead = true;
            _readStartedAt = _timeProvider.GetTimestamp();
            _reading = Task.Run(ReadAsync);
            return _reading;
        }
    }

    private async Task ReadAsync()
    {
        var store = _services!.GetRequiredService<IJobStore>();
        using var timeout = new CancellationTokenSource(_options.StoreTimeout, _timeProvider);
        try
        {
            // WaitAsync too: a store call that ignores its token must not keep the gauges waiting past the bound, which is
            // the whole read's (two calls of nearly the bound each would otherwise hold the read for twice as long).
            var queues = await store.GetQueueStatsAsync(timeout.Token).AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
            var servers = await store.ListServersAsync(timeout.Token).AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
            var now = _timeProvider.GetUtcNow();

            // The registry just read decides which queues keep their names, as it does for every publisher of these gauges.
            _queues!.Update(servers, now);
            Current = new StoreSnapshot(_queues.Label(queues), servers.Count(s => s.ExpiresAt > now));
            if (_lastReadFailed)
            {
                _lastReadFailed = false;
                LogStoreBack(_logger, store.Name);
            }
        }
        catch (Exception e)
        {
            Current = null;
            if (!_lastReadFailed)
            {
                _lastReadFailed = true;
                LogStoreUnavailable(_logger, e, store.Name);
            }
        }
    }

    [LoggerMessage(122, LogLevel.Warning, "Metrics: the {store} store did not give its queue statistics; the store-derived gauges (job_queue_*, job_servers_alive) are left out and job_store_up is 0 until it does.")]
    private static partial void LogStoreUnavailable(ILogger logger, Exception exception, string store);

    [LoggerMessage(123, LogLevel.Information, "Metrics: the {store} store gives its queue statistics again.")]
    private static partial void LogStoreBack(ILogger logger, string store);
}

/// <summary>One read of the store: its queues' statistics, as <see cref="QueueLabels"/> labels them, and how many servers are alive.</summary>
internal sealed record StoreSnapshot(IReadOnlyList<QueueStats> Queues, int ServersAlive);
