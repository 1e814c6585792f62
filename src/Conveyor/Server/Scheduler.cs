using System.Collections.Concurrent;
using Conveyor.Diagnostics;
using Conveyor.Scheduling;
using Conveyor.Storage;
using Microsoft.Extensions.Logging;

namespace Conveyor.Server;

/// <summary>
/// Enqueues the job of every schedule's tick. Every server may run one: a tick's job has an id derived from the
/// schedule and the tick (<see cref="ScheduleTickId"/>), so when two schedulers handle the same tick the store refuses
/// the second enqueue as a duplicate id, and the compare-and-set on the schedule's next tick
/// (<see cref="IScheduleStore.TryRecordScheduleFireAsync"/>) lets only one of them move the schedule on. Correctness
/// needs no leader, no lock and no agreement between clocks; a killed scheduler leaves nothing half done that another
/// cannot finish (the enqueue comes first, so a tick is never marked handled without its job).
/// </summary>
/// <remarks>
/// It reads the ticks due within the next <see cref="JobServerOptions.SchedulePollInterval"/> (one indexed query) and
/// sleeps until the earliest of them, so a tick's job is enqueued at its instant rather than at the next poll. Schedules
/// due at the same instant are fired side by side.
/// </remarks>
internal sealed class Scheduler(
    IJobStore store,
    IJobClient client,
    ConveyorMetrics metrics,
    JobServerOptions options,
    IReadOnlyList<ScheduleRecord>? defined,
    TimeProvider timeProvider,
    ILogger logger) : PeriodicComponent(options.SchedulePollInterval, timeProvider, logger)
{
    private readonly ILogger _logger = logger;

    internal const int DefaultBatchSize = 500;

    /// <summary>The due schedules listed at a time (besides those that failed in the pass); tests lower it.</summary>
    internal int BatchSize { get; init; } = DefaultBatchSize;

    // Schedules fired at once when several are due at the same instant.
    private const int FireConcurrency = 16;

    // The code and configuration schedules, and those still to be written into the store (retried while it is away).
    private readonly IReadOnlyList<ScheduleRecord> _defined = defined ?? [];
    private IReadOnlyList<ScheduleRecord>? _toReconcile = defined;
    private DateTimeOffset? _nextKnownTick;

    /// <summary>
    /// The schedules (tenant, name) of the pass in progress that failed to fire (<see cref="FireAloneAsync"/>): still due,
    /// they are listed again, and the pass passes over them rather than fire them again at once.
    /// </summary>
    private readonly ConcurrentDictionary<(string Tenant, string Name), byte> _failedInPass = new();

    // How often every schedule in the store is listed for its metric series: a schedule created through the API while
    // the servers run gets its series at 0 before its first tick unless that tick is sooner.
    internal static readonly TimeSpan SeriesSweepInterval = TimeSpan.FromMinutes(1);

    // The schedules whose metric series exist (created at 0 when the scheduler first sees them).
    private readonly HashSet<string> _counted = new(StringComparer.Ordinal);
    private DateTimeOffset _nextSeriesSweep = DateTimeOffset.MinValue;

    protected override string Name => "Scheduler";

    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        // All of them, also when the start has written them already (ReconcileDefinedAsync).
        foreach (var schedule in _defined)
        {
            StartAtZero(schedule);
        }

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await TickAsync(cancellationToken).ConfigureAwait(false);
                var wait = Period;
                if (_nextKnownTick is { } next && next - TimeProvider.GetUtcNow() < wait)
                {
                    wait = next - TimeProvider.GetUtcNow();
                }

                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, TimeProvider, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Writes the schedules defined in code and configuration into the store, once: the server's start calls it before it
    /// returns, so that the application finds them there; while the store is away, the passes try again.
    /// </summary>
    public async Task ReconcileDefinedAsync(CancellationToken cancellationToken)
    {
        if (_toReconcile is { } toReconcile)
        {
            await ScheduleReconciler.ReconcileAsync(store, toReconcile, TimeProvider.GetUtcNow(), _logger, cancellationToken).ConfigureAwait(false);
            _toReconcile = null;
        }
    }

    /// <summary>Fires every tick due now and notes the earliest tick due before the next poll.</summary>
    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        _nextKnownTick = null;
        _failedInPass.Clear();
        await ReconcileDefinedAsync(cancellationToken).ConfigureAwait(false);

        while (true)
        {
            // The schedules that failed in this pass are still due, and may come first: the listing reaches past them, so
            // that a batch of schedules that fail at every pass cannot hold back those listed after them.
            var now = TimeProvider.GetUtcNow();
            var limit = BatchSize + _failedInPass.Count;
            var due = await store.ListDueSchedulesAsync(now + Period, limit, cancellationToken).ConfigureAwait(false);
            var fresh = due.Where(s => !_failedInPass.ContainsKey((s.Tenant, s.Name))).ToList();
            foreach (var schedule in fresh)
            {
                StartAtZero(schedule);
            }

            var ready = fresh.Where(s => s.NextFireAt!.Value <= now).ToList();
            var nextTicks = await FireAllAsync(ready, now, cancellationToken).ConfigureAwait(false);
            foreach (var next in nextTicks.Concat(fresh.Where(s => s.NextFireAt!.Value > now).Select(static s => s.NextFireAt)))
            {
                if (next is { } n && (_nextKnownTick is null || n < _nextKnownTick))
                {
                    _nextKnownTick = n;
                }
            }

            // A full listing fired in full may hide more due schedules. Each round fires at least one schedule it had not
            // fired or failed in this pass (a full listing holds BatchSize of them), so the pass ends.
            if (due.Count < limit || ready.Count < fresh.Count || ready.Count == 0)
            {
                break;
            }
        }

        await SweepSeriesAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Once a <see cref="SeriesSweepInterval"/>, creates the metric series of every schedule that is not paused, after
    /// the ticks: the series are for dashboards, and a listing that fails (or is slow) must not hold back a tick.
    /// </summary>
    private async Task SweepSeriesAsync(CancellationToken cancellationToken)
    {
        if (TimeProvider.GetUtcNow() < _nextSeriesSweep)
        {
            return;
        }

        _nextSeriesSweep = TimeProvider.GetUtcNow() + SeriesSweepInterval;
        try
        {
            foreach (var schedule in await store.ListSchedulesAsync(tenant: null, cancellationToken).ConfigureAwait(false))
            {
                if (!schedule.Paused)
                {
                    StartAtZero(schedule);
                }
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Log.ComponentFailed(_logger, e, "Scheduler's sweep of metric series");
        }
    }

    /// <summary>
    /// Fires the schedules due at the same instant side by side (at most <see cref="FireConcurrency"/> at once), so the
    /// last of many is not late by every other one's enqueue and compare-and-set round trips. Each schedule is fired
    /// by itself, as before: the tick's id and the compare-and-set keep it to one job whatever runs beside it.
    /// </summary>
    private async Task<DateTimeOffset?[]> FireAllAsync(List<ScheduleRecord> ready, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (ready.Count == 1)
        {
            return [await FireAloneAsync(ready[0], now, cancellationToken).ConfigureAwait(false)];
        }

        using var throttle = new SemaphoreSlim(FireConcurrency);
        var fires = ready.Select(async schedule =>
        {
            await throttle.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await FireAloneAsync(schedule, now, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                throttle.Release();
            }
        }).ToList();
        return await Task.WhenAll(fires).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="FireAsync"/>, whose failure of its own stays its own: the other schedules of the pass fire, and their next
    /// ticks are kept. A store away fails the pass, as every schedule needs it.
    /// </summary>
    private async Task<DateTimeOffset?> FireAloneAsync(ScheduleRecord schedule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            return await FireAsync(schedule, now, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (OperationCanceledException or JobStoreUnavailableException))
        {
            Log.ScheduleFireFailed(_logger, e, schedule.Tenant, schedule.Name);

            // Its next tick is unknown: the schedule is read again at the next poll, not at once.
            _failedInPass.TryAdd((schedule.Tenant, schedule.Name), 0);
            return null;
        }
    }

    /// <summary>Handles the schedule's ticks due by <paramref name="now"/> and returns its next tick.</summary>
    internal async Task<DateTimeOffset?> FireAsync(ScheduleRecord schedule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        StartAtZero(schedule);
        CronSchedule cron;
        try
        {
            cron = CronSchedule.Parse(schedule.Name, schedule.Cron, schedule.TimeZone);
        }
        catch (ScheduleDefinitionException e)
        {
            // Written to the store by hand or by an older version: stop it rather than read it every tick.
            Log.ScheduleBroken(_logger, schedule.Tenant, schedule.Name, e.Message);
            await RecordAsync(schedule, null, now, null, cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (!TenantId.IsValid(schedule.Tenant))
        {
            // A tenant earlier versions took ('.', '..'): its jobs can no longer be enqueued, so it stops as above.
            Log.ScheduleBroken(_logger, schedule.Tenant, schedule.Name, TenantId.Problem(schedule.Tenant));
            await RecordAsync(schedule, null, now, null, cancellationToken).ConfigureAwait(false);
            return null;
        }

        // The due ticks: on time (no older than the misfire threshold) or missed.
        var onTime = new List<DateTimeOffset>();
        var missedLatest = new Queue<DateTimeOffset>();
        var keepMissed = schedule.Misfire == MisfirePolicy.All ? options.ScheduleMaxCatchUpRuns : 1;
        var missed = 0;
        DateTimeOffset? firstMissed = null;
        DateTimeOffset last = default;
        var tick = schedule.NextFireAt;
        while (tick is { } t && t <= now)
        {
            last = t;
            if (now - t <= options.ScheduleMisfireThreshold)
            {
                onTime.Add(t);
            }
            else
            {
                missed++;
                firstMissed ??= t;
                missedLatest.Enqueue(t);
                if (missedLatest.Count > keepMissed)
                {
                    missedLatest.Dequeue();
                }
            }

            tick = cron.Next(t);
        }

        var run = new List<DateTimeOffset>();
        if (missed > 0 && (schedule.Misfire == MisfirePolicy.All || (schedule.Misfire == MisfirePolicy.Once && onTime.Count == 0)))
        {
            run.AddRange(missedLatest);
        }

        run.AddRange(onTime);
        var skipped = 0;
        JobInfo? unfinished = null;
        if (schedule.Overlap == OverlapPolicy.SkipWhileUnfinished && run.Count > 0)
        {
            // One run at a time: the latest tick only, and not while the previous tick's job is unfinished.
            var earlier = run.SkipLast(1).Append(schedule.NextFireAt!.Value).Where(t => t < run[^1]);
            unfinished = await UnfinishedRunAsync(schedule, earlier, cancellationToken).ConfigureAwait(false);
            skipped = unfinished is not null ? run.Count : run.Count - 1;
        }

        var skippedTick = skipped > 0 ? run[^1] : default;
        run.RemoveRange(0, skipped);

        string? jobId = null;
        foreach (var at in run)
        {
            jobId = ScheduleTickId.For(schedule.Tenant, schedule.Name, at);
            EnqueueResult result;
            try
            {
                result = await client.EnqueueAsync(schedule.JobType, schedule.Payload, new JobOptions
                {
                    JobId = jobId,
                    Tenant = schedule.Tenant,
                    Queue = schedule.Queue,
                    MaxRetry = schedule.MaxRetry,
                    Timeout = schedule.Timeout,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (ArgumentException e)
            {
                // Its job is refused as it stands (a payload over a Conveyor:MaxPayloadBytes lowered since the schedule was
                // written): stopped as above, rather than refused at every pass.
                Log.ScheduleBroken(_logger, schedule.Tenant, schedule.Name, e.Message);
                await RecordAsync(schedule, null, now, null, cancellationToken).ConfigureAwait(false);
                return null;
            }

            // A duplicate id is another scheduler that handled the same tick first: the tick has its one job.
            if (result.Outcome == EnqueueOutcome.Enqueued)
            {
                metrics.ScheduleFired(schedule.Name);
            }

            Log.ScheduleFired(_logger, schedule.Tenant, schedule.Name, at, jobId, result.Outcome == EnqueueOutcome.Enqueued ? "enqueued" : "already enqueued");
        }

        // Every scheduler that read the schedule saw the same missed and skipped ticks: the one whose compare-and-set moves
        // it on counts and logs them, so that each is counted once however many servers run a scheduler.
        if (await RecordAsync(schedule, tick, last, jobId, cancellationToken).ConfigureAwait(false))
        {
            if (missed > 0)
            {
                var policy = PolicyName(schedule.Misfire);
                metrics.ScheduleMisfired(schedule.Name, policy, missed);
                Log.ScheduleMisfired(_logger, schedule.Tenant, schedule.Name, missed, firstMissed!.Value, missedLatest.Last(), policy);
            }

            if (skipped > 0)
            {
                metrics.ScheduleMisfired(schedule.Name, "overlap", skipped);
                if (unfinished is not null)
                {
                    Log.ScheduleOverlapSkipped(_logger, schedule.Tenant, schedule.Name, skippedTick, unfinished.Id);
                }
            }
        }

        return tick;
    }

    /// <summary>
    /// A job of an earlier tick of <paramref name="schedule"/> still to finish, or null. Besides the last job recorded, the
    /// jobs a scheduler may have made without recording them: its compare-and-set lost to one that skipped the same tick
    /// (which, seeing the previous run unfinished a moment earlier, moved the schedule on without a job: the tick of
    /// <see cref="ScheduleRecord.LastFireAt"/>), or its process died between the enqueue and the compare-and-set (one of
    /// the ticks due now before the latest, <paramref name="earlier"/>, the schedule's next tick among them).
    /// </summary>
    private async Task<JobInfo?> UnfinishedRunAsync(ScheduleRecord schedule, IEnumerable<DateTimeOffset> earlier, CancellationToken cancellationToken)
    {
        IEnumerable<string?> candidates =
        [
            schedule.LastJobId,
            schedule.LastFireAt is { } lastFire ? ScheduleTickId.For(schedule.Tenant, schedule.Name, lastFire) : null,
            .. earlier.Select(t => ScheduleTickId.For(schedule.Tenant, schedule.Name, t)),
        ];

        foreach (var id in candidates.Where(static id => id is not null).Distinct())
        {
            if (await store.GetAsync(schedule.Tenant, id!, cancellationToken).ConfigureAwait(false) is
                { State: JobState.Scheduled or JobState.Pending or JobState.Active or JobState.Retrying } job)
            {
                return job;
            }
        }

        return null;
    }

    private async Task<bool> RecordAsync(ScheduleRecord schedule, DateTimeOffset? next, DateTimeOffset lastFire, string? jobId, CancellationToken cancellationToken) =>
        await store.TryRecordScheduleFireAsync(new ScheduleFire
        {
            Tenant = schedule.Tenant,
            Name = schedule.Name,
            ExpectedNextFireAt = schedule.NextFireAt,
            NextFireAt = next,
            LastFireAt = lastFire,
            LastJobId = jobId,
        }, cancellationToken).ConfigureAwait(false);

    private void StartAtZero(ScheduleRecord schedule)
    {
        if (_counted.Add(schedule.Name))
        {
            metrics.ScheduleStartAtZero(schedule.Name, PolicyName(schedule.Misfire), schedule.Overlap == OverlapPolicy.SkipWhileUnfinished);
        }
    }

    private static string PolicyName(MisfirePolicy policy) => policy switch
    {
        MisfirePolicy.Skip => "skip",
        MisfirePolicy.All => "all",
        _ => "once",
    };
}
