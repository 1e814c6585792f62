using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>The promoter runs at its ticks and, in between, at the times a rate limit's turns asked for.</summary>
public sealed class PromotionAlarmTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task WithNoAlarm_TheWaitEndsAtTheTick()
    {
        var alarm = new PromotionAlarm();
        var waiting = alarm.WaitAsync(_time.GetUtcNow().AddSeconds(1), _time, CancellationToken.None);

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(waiting.IsCompleted);

        // A timer may end up to a millisecond early: the wait asks for one more.
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AnAlarmAskedForDuringTheWait_BeforeTheTick_EndsItThen_RoundedUpToFiveMilliseconds()
    {
        var alarm = new PromotionAlarm();
        var t0 = _time.GetUtcNow();
        var waiting = alarm.WaitAsync(t0.AddSeconds(1), _time, CancellationToken.None);

        // Rounded up to 255 ms: alarms close together ring together.
        alarm.RingAt(t0.AddMilliseconds(250.5));
        _time.Advance(TimeSpan.FromMilliseconds(250.5));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(4));
        Assert.False(waiting.IsCompleted);

        // The wait is set again when the alarm is asked for, before or after the first advance: it ends by 257 ms.
        _time.Advance(TimeSpan.FromMilliseconds(2.5));

        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AlarmsThatPassedRingOnce_AndOneAfterTheTickWaitsForTheNextWait()
    {
        var alarm = new PromotionAlarm();
        var t0 = _time.GetUtcNow();
        alarm.RingAt(t0.AddMilliseconds(10));
        alarm.RingAt(t0.AddMilliseconds(20));
        alarm.RingAt(t0.AddSeconds(3));
        _time.Advance(TimeSpan.FromMilliseconds(30));

        Assert.False(await alarm.WaitAsync(t0.AddSeconds(1), _time, CancellationToken.None));
        var toTick = alarm.WaitAsync(t0.AddSeconds(1), _time, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(971));
        Assert.True(await toTick.WaitAsync(TimeSpan.FromSeconds(10)));

        var toAlarm = alarm.WaitAsync(t0.AddSeconds(4), _time, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(await toAlarm.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AStoredSnoozeDueBeforeTheTick_RingsAtItsTime_AndARetryDueAfterTheTickDoesNot()
    {
        var store = new InMemoryJobStore(_time);
        var leased = await LeasedJobs.EnqueueAndLeaseAsync(store, 2);
        var held = new HeldJobs();
        foreach (var job in leased)
        {
            held.Add(new RunningJob(job));
        }

        var alarm = new PromotionAlarm();
        var batcher = new AcknowledgementBatcher(store, held, new JobReadySignal(), batchSize: 100, _time, NullLogger.Instance,
            alarm: alarm, alarmHorizon: TimeSpan.FromSeconds(1));
        var t0 = _time.GetUtcNow();
        batcher.Add(new JobAcknowledgement { JobId = leased[0].Id, LeaseToken = leased[0].LeaseToken, Outcome = AckOutcome.Snoozed, SnoozeUntil = t0.AddMilliseconds(200), SnoozeReason = "later" });
        batcher.Add(new JobAcknowledgement { JobId = leased[1].Id, LeaseToken = leased[1].LeaseToken, Outcome = AckOutcome.Retry, RetryAt = t0.AddSeconds(5) });
        batcher.Complete();
        await batcher.RunAsync(CancellationToken.None);
        Assert.Equal(0, held.Count);

        var toSnooze = alarm.WaitAsync(t0.AddSeconds(1), _time, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(202));
        Assert.False(await toSnooze.WaitAsync(TimeSpan.FromSeconds(10)));
        var toTick = alarm.WaitAsync(t0.AddSeconds(1), _time, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(800));
        Assert.True(await toTick.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ThePromoter_PromotesAJobAtItsAlarm_BeforeItsTick()
    {
        var store = new InMemoryJobStore(_time);
        var t0 = _time.GetUtcNow();
        var id = await EnqueueScheduledAsync(store, t0.AddMilliseconds(100));
        var alarm = new PromotionAlarm();
        var promoter = new Promoter(store, new JobReadySignal(), alarm, TimeSpan.FromSeconds(1), _time, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var running = promoter.RunAsync(stop.Token);

        alarm.RingAt(t0.AddMilliseconds(100));

        // Past the millisecond a timer's wait adds, whether the promoter's wait was set again before or after the alarm.
        _time.Advance(TimeSpan.FromMilliseconds(102));

        await Eventually.HoldsAsync(async () => (await store.GetAsync(TenantId.Default, id, CancellationToken.None))!.State == JobState.Pending,
            because: "the alarm at 100 ms promotes the job, 900 ms before the tick");
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task ThePromoter_AtATick_RingsForAJobDueBeforeTheNextTick_AndPromotesItThen()
    {
        var store = new InMemoryJobStore(_time);
        var t0 = _time.GetUtcNow();
        var id = await EnqueueScheduledAsync(store, t0.AddMilliseconds(1500));
        var alarm = new PromotionAlarm();
        var promoter = new Promoter(store, new JobReadySignal(), alarm, TimeSpan.FromSeconds(1), _time, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var running = promoter.RunAsync(stop.Token);

        // The tick at 1 s (and the millisecond a timer's wait adds) finds the job due at 1.5 s, before the tick at 2 s
        // (1.5 s is a whole number of the promoter's 20 ms steps: the alarm is at the job's time).
        _time.Advance(TimeSpan.FromMilliseconds(1002));
        await Eventually.HoldsAsync(() => alarm.Earliest == t0.AddMilliseconds(1500),
            because: "the tick asks the store for the times due before the next tick");
        Assert.Equal(JobState.Scheduled, (await store.GetAsync(TenantId.Default, id, CancellationToken.None))!.State);

        _time.Advance(TimeSpan.FromMilliseconds(500));

        await Eventually.HoldsAsync(async () => (await store.GetAsync(TenantId.Default, id, CancellationToken.None))!.State == JobState.Pending,
            because: "the alarm at 1.5 s promotes the job, 500 ms before the next tick");
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task AJobThisProcessStoresAfterTheTicksLook_DueBeforeTheNextTick_IsPromotedAtItsTime_NotAtTheTick()
    {
        var provider = new ServiceCollection().AddSingleton<TimeProvider>(_time).AddConveyor().UseInMemoryStore().Services.BuildServiceProvider();
        var (store, counts) = CountingStore.Wrap(provider.GetRequiredService<IJobStore>());
        var client = provider.GetRequiredService<IJobClient>();
        var alarm = provider.GetRequiredService<PromotionAlarm>();
        var promoter = new Promoter(store, new JobReadySignal(), alarm, TimeSpan.FromSeconds(1), _time, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var running = promoter.RunAsync(stop.Token);
        var t0 = _time.GetUtcNow();

        // The tick at 1 s looks at the due times before 2 s and finds none; then this process stores two jobs due before
        // 2 s, one alone and one of a list (1.3 s and 1.6 s: whole 20 ms steps, so the alarms are at their times).
        _time.Advance(TimeSpan.FromMilliseconds(1002));
        await Eventually.HoldsAsync(() => counts.Calls(nameof(IJobStore.ListDueTimesAsync)) == 1, because: "the tick looks at the due times");
        var alone = await client.EnqueueAsync("test:run", "{}"u8.ToArray(), new JobOptions { ProcessAt = t0.AddMilliseconds(1300) });
        var listed = (await client.EnqueueManyAsync([client.CreateJob("test:run", "{}"u8.ToArray(), new JobOptions { ProcessAt = t0.AddMilliseconds(1600) })]))[0];
        Assert.Equal(t0.AddMilliseconds(1300), alarm.Earliest);

        // Time moves a millisecond a step while the test waits (a single step taken between the promoter's clock read and
        // its timer left the timer waiting for a time the test never reached, a CI flake); the tick's look not running
        // again proves each job was promoted by its alarm, before the tick at 2 s.
        await Eventually.HoldsAsync(async () =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            return (await store.GetAsync(TenantId.Default, alone.JobId, CancellationToken.None))!.State == JobState.Pending;
        }, TimeSpan.FromSeconds(30), because: "the job stored after the look rang the alarm at its time, 700 ms before the tick");
        if (_time.GetUtcNow() < t0.AddMilliseconds(1600))
        {
            Assert.Equal(JobState.Scheduled, (await store.GetAsync(TenantId.Default, listed.JobId, CancellationToken.None))!.State);
        }

        await Eventually.HoldsAsync(async () =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            return (await store.GetAsync(TenantId.Default, listed.JobId, CancellationToken.None))!.State == JobState.Pending;
        }, TimeSpan.FromSeconds(30), because: "a job of a stored list rings too");
        Assert.Equal(1, counts.Calls(nameof(IJobStore.ListDueTimesAsync)));
        await stop.CancelAsync();
        await running;
    }

    /// <summary>A review: the store stored the job as scheduled, and its time passed before the call returned.</summary>
    [Fact]
    public async Task AJobWhoseTimePassesDuringItsStoreCall_RingsAtOnce()
    {
        var services = new ServiceCollection().AddSingleton<TimeProvider>(_time);
        services.AddConveyor();
        var (store, counts) = CountingStore.Wrap(new InMemoryJobStore(_time));
        var provider = services.AddSingleton(store).BuildServiceProvider();
        var alarm = provider.GetRequiredService<PromotionAlarm>();
        var promoter = new Promoter(store, new JobReadySignal(), alarm, TimeSpan.FromSeconds(1), _time, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var running = promoter.RunAsync(stop.Token);
        _time.Advance(TimeSpan.FromMilliseconds(1002));
        await Eventually.HoldsAsync(() => counts.Calls(nameof(IJobStore.ListDueTimesAsync)) == 1, because: "the tick looks at the due times");

        // Due 10 ms ahead; the store takes 15 ms (the fake clock moves as it answers).
        counts.AfterCall = name => _time.Advance(name == nameof(IJobStore.EnqueueAsync) ? TimeSpan.FromMilliseconds(15) : TimeSpan.Zero);
        var job = await provider.GetRequiredService<IJobClient>().EnqueueAsync("test:run", "{}"u8.ToArray(), new JobOptions { ProcessIn = TimeSpan.FromMilliseconds(10) });
        counts.AfterCall = null;
        Assert.Equal(JobState.Scheduled, job.State);

        // Time moves in steps while the test waits: the promoter reads the clock, then sets its timer, and a single step
        // taken between the two would leave that timer waiting for a time the test never reaches.
        // A millisecond a step leaves the promoter seconds of real time to answer before the next tick, 983 ms ahead.
        await Eventually.HoldsAsync(async () =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            return (await store.GetAsync(TenantId.Default, job.JobId, CancellationToken.None))!.State == JobState.Pending;
        }, TimeSpan.FromSeconds(30), because: "the job rang as it was stored, though its time had passed");
        Assert.Equal(1, counts.Calls(nameof(IJobStore.ListDueTimesAsync)));
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task WithNoPromoterWaiting_JobsStoredDueSoonRingNothing()
    {
        var provider = new ServiceCollection().AddSingleton<TimeProvider>(_time).AddConveyor().UseInMemoryStore().Services.BuildServiceProvider();
        var client = provider.GetRequiredService<IJobClient>();

        // A process that only enqueues: its alarms would never be cleared.
        await client.EnqueueAsync("test:run", "{}"u8.ToArray(), new JobOptions { ProcessIn = TimeSpan.FromMilliseconds(300) });

        Assert.Null(provider.GetRequiredService<PromotionAlarm>().Earliest);
    }

    private static async Task<string> EnqueueScheduledAsync(InMemoryJobStore store, DateTimeOffset processAt)
    {
        var id = JobId.New();
        await store.EnqueueAsync(new NewJob
        {
            Id = id,
            Type = "test:run",
            Queue = QueueName.Default,
            Tenant = TenantId.Default,
            Payload = "{}"u8.ToArray(),
            MaxRetry = 0,
            ProcessAt = processAt,
            Retention = TimeSpan.FromHours(1),
        }, CancellationToken.None);
        return id;
    }
}
