using System.Collections.Concurrent;
using Conveyor.Scheduling;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Tests.Scheduling;

/// <summary>The scheduler on a fake clock: one job per tick however many schedulers, misfire and overlap policies.</summary>
public sealed class SchedulerTests
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Tick_EnqueuesOneJobAtItsInstant_WithTheScheduleOptionsAndATickId()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("report", "*/5 * * * *", configure: d => { d.Queue = "low"; d.MaxRetry = 7; d.Timeout = TimeSpan.FromMinutes(2); });

        await bed.RunUntilAsync(Start.AddMinutes(5), TimeSpan.FromMinutes(1));

        var id = ScheduleTickId.For(TenantId.Default, "report", Start.AddMinutes(5));
        var job = await bed.Store.GetAsync(TenantId.Default, id, CancellationToken.None);
        Assert.NotNull(job);
        Assert.Equal("test:echo", job.Type);
        Assert.Equal("low", job.Queue);
        Assert.Equal(7, job.MaxRetry);
        Assert.Equal(TimeSpan.FromMinutes(2), job.Timeout);
        Assert.Equal("""{"text":"tick"}""", System.Text.Encoding.UTF8.GetString(job.Payload.Span));
        Assert.Equal(Start.AddMinutes(5), ScheduleTickId.ScheduledAt(id));

        var schedule = await bed.Schedules.GetAsync(TenantId.Default, "report");
        Assert.Equal(Start.AddMinutes(10), schedule!.NextFireAt);
        Assert.Equal(Start.AddMinutes(5), schedule.LastFireAt);
        Assert.Equal(id, schedule.LastJobId);
    }

    [Fact]
    public async Task ASchedule_CreatedWhileTheSchedulerRuns_HasItsSeriesAtZeroBeforeItsFirstTick()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.Scheduler.RunOnceAsync(CancellationToken.None);
        await bed.CreateAsync("yearly", "0 0 1 1 *", configure: d => d.Overlap = OverlapPolicy.SkipWhileUnfinished);
        await bed.CreateAsync("soon", "*/10 * * * * *");

        // Before its tick: the scheduler reads it among the ticks due within its poll.
        await bed.RunUntilAsync(Start.AddSeconds(9.5), TimeSpan.FromSeconds(0.5));
        Assert.Contains(bed.Fires.GetMeasurementSnapshot(), m => Equals(m.Tags["schedule"], "soon") && m.Value == 0);
        Assert.Equal(0, bed.Fired("soon"));

        // A year away: the sweep of every schedule, once a minute.
        await bed.RunUntilAsync(Start + Scheduler.SeriesSweepInterval, TimeSpan.FromSeconds(10));
        Assert.Contains(bed.Fires.GetMeasurementSnapshot(), m => Equals(m.Tags["schedule"], "yearly") && m.Value == 0);
        Assert.Contains(bed.Misfires.GetMeasurementSnapshot(), m => Equals(m.Tags["schedule"], "yearly") && Equals(m.Tags["policy"], "overlap") && m.Value == 0);
        Assert.Equal(0, bed.Fired("yearly"));
    }

    [Fact]
    public async Task AScheduleInADotTenant_StoredBeforeTheRule_StopsOnce_AndTheOthersStillFire()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.Store.TryCreateScheduleAsync(new ScheduleRecord
        {
            Tenant = "..", Name = "old", Cron = "* * * * *", TimeZone = "UTC", JobType = "test:echo", Payload = "{}"u8.ToArray(),
            NextFireAt = Start.AddMinutes(1), CreatedAt = Start, UpdatedAt = Start,
        }, CancellationToken.None);
        await bed.CreateAsync("report", "* * * * *");

        await bed.RunUntilAsync(Start.AddMinutes(3), TimeSpan.FromSeconds(30));

        Assert.Null((await bed.Store.GetScheduleAsync("..", "old", CancellationToken.None))!.NextFireAt);
        Assert.Equal([Start.AddMinutes(1), Start.AddMinutes(2), Start.AddMinutes(3)], await bed.TicksAsync());
    }

    [Fact]
    public async Task ManySchedulers_SameTicks_OneJobPerTick()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("often", "*/10 * * * * *");
        var schedulers = Enumerable.Range(0, 5).Select(_ => bed.NewScheduler()).ToArray();

        for (var i = 0; i < 30; i++)
        {
            bed.Time.Advance(TimeSpan.FromSeconds(10));
            await Task.WhenAll(schedulers.Select(s => Task.Run(() => s.RunOnceAsync(CancellationToken.None))));
        }

        var ticks = await bed.TicksAsync();
        Assert.Equal(Enumerable.Range(1, 30).Select(i => Start.AddSeconds(10 * i)), ticks);
        Assert.Equal(30, bed.Fired("often"));
    }

    [Fact]
    public async Task ManySchedulesDueAtOnce_FiredSideBySide_EachGetsOneJobPerTick_AndMovesOn()
    {
        using var bed = new SchedulerTestBed(Start);
        const int count = 40;
        for (var i = 0; i < count; i++)
        {
            await bed.CreateAsync($"s{i:D2}", "*/10 * * * * *");
        }

        var schedulers = Enumerable.Range(0, 3).Select(_ => bed.NewScheduler()).ToArray();
        for (var i = 0; i < 3; i++)
        {
            bed.Time.Advance(TimeSpan.FromSeconds(10));
            await Task.WhenAll(schedulers.Select(s => Task.Run(() => s.RunOnceAsync(CancellationToken.None))));
        }

        var ticks = await bed.TicksAsync();
        Assert.Equal(count * 3, ticks.Count);
        Assert.All(ticks.GroupBy(t => t), g => Assert.Equal(count, g.Count()));
        foreach (var schedule in await bed.Schedules.ListAsync(TenantId.Default))
        {
            Assert.Equal(Start.AddSeconds(30), schedule.LastFireAt);
            Assert.Equal(Start.AddSeconds(40), schedule.NextFireAt);
            Assert.Equal(3, bed.Fired(schedule.Name));
        }
    }

    [Fact]
    public async Task StaleScheduler_HandlesATickAnotherAlreadyDid_NoSecondJob()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("often", "* * * * *");
        bed.Time.Advance(TimeSpan.FromMinutes(1));
        var stale = await bed.Schedules.GetAsync(TenantId.Default, "often");

        await bed.Scheduler.RunOnceAsync(CancellationToken.None);
        var next = await bed.NewScheduler().FireAsync(stale!, bed.Time.GetUtcNow(), CancellationToken.None);

        Assert.Equal([Start.AddMinutes(1)], await bed.TicksAsync());
        Assert.Equal(1, bed.Fired("often"));
        Assert.Equal(Start.AddMinutes(2), (await bed.Schedules.GetAsync(TenantId.Default, "often"))!.NextFireAt);
        Assert.Equal(Start.AddMinutes(2), next);
    }

    [Theory]
    [InlineData(MisfirePolicy.Skip, new int[0])]
    [InlineData(MisfirePolicy.Once, new[] { 3 })]
    [InlineData(MisfirePolicy.All, new[] { 1, 2, 3 })]
    public async Task Misfire_DaysWithoutAServer_FollowThePolicy(MisfirePolicy policy, int[] expectedDays)
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("nightly", "0 3 * * *", configure: d => d.Misfire = policy);

        bed.Time.Advance(TimeSpan.FromDays(2) + TimeSpan.FromHours(12));
        await bed.Scheduler.RunOnceAsync(CancellationToken.None);

        Assert.Equal(expectedDays.Select(d => Start.AddDays(d - 1).AddHours(3)), await bed.TicksAsync());
        Assert.Equal(3, bed.Misfired("nightly", policy.ToString().ToLowerInvariant()));
        var schedule = await bed.Schedules.GetAsync(TenantId.Default, "nightly");
        Assert.Equal(Start.AddDays(2).AddHours(3), schedule!.LastFireAt);
        Assert.Equal(Start.AddDays(3).AddHours(3), schedule.NextFireAt);
    }

    [Fact]
    public async Task ManySchedulers_ThatReadTheSameTicks_CountEachMissedAndEachSkippedTickOnce()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("nightly", "0 3 * * *", configure: d => d.Misfire = MisfirePolicy.Once);
        await bed.CreateAsync("report", "* * * * *", configure: d => d.Overlap = OverlapPolicy.SkipWhileUnfinished);
        var schedulers = Enumerable.Range(0, 3).Select(_ => bed.NewScheduler()).ToArray();

        // Three servers read each schedule before any of them moved it on. First after three days without a server;
        // then for three minutes in which report's job never ends.
        async Task FireTogetherAsync(string name)
        {
            var read = (await bed.Store.GetScheduleAsync(TenantId.Default, name, CancellationToken.None))!;
            foreach (var scheduler in schedulers)
            {
                await scheduler.FireAsync(read, bed.Time.GetUtcNow(), CancellationToken.None);
            }
        }

        bed.Time.Advance(TimeSpan.FromDays(2) + TimeSpan.FromHours(12));
        await FireTogetherAsync("nightly");
        await FireTogetherAsync("report");
        for (var i = 0; i < 3; i++)
        {
            bed.Time.Advance(TimeSpan.FromMinutes(1));
            await FireTogetherAsync("report");
        }

        // report: at the start its two on-time ticks run one at a time (one skipped), then one skip a minute.
        Assert.Equal((3, 4), (bed.Misfired("nightly", "once"), bed.Misfired("report", "overlap")));
        Assert.Equal(2, bed.Fired("report") + bed.Fired("nightly"));
    }

    [Fact]
    public async Task Misfire_All_IsBoundedByMaxCatchUpRuns_KeepingTheLatest()
    {
        using var bed = new SchedulerTestBed(Start, o => o.ScheduleMaxCatchUpRuns = 2);
        await bed.CreateAsync("nightly", "0 3 * * *", configure: d => d.Misfire = MisfirePolicy.All);

        bed.Time.Advance(TimeSpan.FromDays(5));
        await bed.Scheduler.RunOnceAsync(CancellationToken.None);

        Assert.Equal([Start.AddDays(3).AddHours(3), Start.AddDays(4).AddHours(3)], await bed.TicksAsync());
        Assert.Equal(5, bed.Misfired("nightly", "all"));
    }

    [Fact]
    public async Task LateTick_WithinTheMisfireThreshold_RunsAndIsNoMisfire()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("every-minute", "* * * * *", configure: d => d.Misfire = MisfirePolicy.Skip);

        bed.Time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(30));
        await bed.Scheduler.RunOnceAsync(CancellationToken.None);

        // 00:01 is 90 s late (a misfire, skipped); 00:02 is 30 s late, within the 1 min threshold.
        Assert.Equal([Start.AddMinutes(2)], await bed.TicksAsync());
        Assert.Equal(1, bed.Misfired("every-minute", "skip"));
    }

    [Fact]
    public async Task Overlap_SkipWhileUnfinished_SkipsTicksUntilThePreviousRunEnds()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("report", "* * * * *", configure: d => d.Overlap = OverlapPolicy.SkipWhileUnfinished);

        await bed.RunUntilAsync(Start.AddMinutes(3), TimeSpan.FromMinutes(1));
        Assert.Equal([Start.AddMinutes(1)], await bed.TicksAsync());
        Assert.Equal(2, bed.Misfired("report", "overlap"));

        await SucceedAsync(bed, await LeaseOneAsync(bed));

        await bed.RunUntilAsync(Start.AddMinutes(4), TimeSpan.FromMinutes(1));
        Assert.Equal([Start.AddMinutes(1), Start.AddMinutes(4)], await bed.TicksAsync());
    }

    /// <summary>
    /// Review: two schedulers read the same tick while the previous run ends between their checks. One skips it and moves
    /// the schedule on with no job; the other enqueues it and loses the compare-and-set, so the schedule does not name the
    /// run. The next tick still waits for that run.
    /// </summary>
    [Fact]
    public async Task Overlap_SkipWhileUnfinished_TwoSchedulers_TheRunOfTheOneThatLostTheRaceIsWaitedFor()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("report", "* * * * *", configure: d => d.Overlap = OverlapPolicy.SkipWhileUnfinished);
        await bed.RunUntilAsync(Start.AddMinutes(1), TimeSpan.FromMinutes(1));
        var first = await LeaseOneAsync(bed);

        bed.Time.Advance(TimeSpan.FromMinutes(1));
        var read = (await bed.Store.GetScheduleAsync(TenantId.Default, "report", CancellationToken.None))!;
        await bed.NewScheduler().FireAsync(read, bed.Time.GetUtcNow(), CancellationToken.None);
        await SucceedAsync(bed, first);
        await bed.NewScheduler().FireAsync(read, bed.Time.GetUtcNow(), CancellationToken.None);
        var second = await LeaseOneAsync(bed);
        Assert.Equal(Start.AddMinutes(2), ScheduleTickId.ScheduledAt(second.Id));
        Assert.Equal(first.Id, (await bed.Store.GetScheduleAsync(TenantId.Default, "report", CancellationToken.None))!.LastJobId);

        await bed.RunUntilAsync(Start.AddMinutes(3), TimeSpan.FromMinutes(1));

        Assert.Equal([Start.AddMinutes(1), Start.AddMinutes(2)], await bed.TicksAsync());
    }

    /// <summary>
    /// Review: a scheduler enqueued a tick (the schedule's next, or a later one its pass found due) and its process died
    /// before it recorded it; the next pass waits for that run.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Overlap_SkipWhileUnfinished_TheRunOfASchedulerThatDiedBeforeRecordingIt_IsWaitedFor(int diedAtMinute)
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("report", "* * * * *", configure: d => d.Overlap = OverlapPolicy.SkipWhileUnfinished);
        await bed.Scheduler.RunOnceAsync(CancellationToken.None);
        var client = bed.Services.GetRequiredService<IJobClient>();
        await client.EnqueueAsync("test:echo", """{"text":"tick"}"""u8.ToArray(), new JobOptions { JobId = ScheduleTickId.For(TenantId.Default, "report", Start.AddMinutes(diedAtMinute)) });
        await LeaseOneAsync(bed);

        bed.Time.Advance(TimeSpan.FromMinutes(3));
        await bed.Scheduler.RunOnceAsync(CancellationToken.None);

        Assert.Equal([Start.AddMinutes(diedAtMinute)], await bed.TicksAsync());
        Assert.Equal(Start.AddMinutes(4), (await bed.Store.GetScheduleAsync(TenantId.Default, "report", CancellationToken.None))!.NextFireAt);
    }

    /// <summary>
    /// Review: a schedule that fails to fire for a reason of its own (here its overlap check's read) fails alone: the
    /// schedule beside it fires, and the failing one stays due for the next poll.
    /// </summary>
    [Fact]
    public async Task AScheduleThatFailsToFire_FailsAlone()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("good", "* * * * *");
        await bed.CreateAsync("checked", "* * * * *", configure: d => d.Overlap = OverlapPolicy.SkipWhileUnfinished);
        var scheduler = await FailingOverlapChecksAsync(bed);

        await scheduler.RunOnceAsync(CancellationToken.None);

        Assert.NotNull(await bed.Store.GetAsync(TenantId.Default, ScheduleTickId.For(TenantId.Default, "good", Start.AddMinutes(2)), CancellationToken.None));
        Assert.Equal(Start.AddMinutes(2), (await bed.Store.GetScheduleAsync(TenantId.Default, "checked", CancellationToken.None))!.NextFireAt);
    }

    /// <summary>Review: a full batch of schedules that failed to fire was listed and fired again and again: the pass never ended.</summary>
    [Fact]
    public async Task AFullBatchOfSchedulesThatFailToFire_EndsThePass()
    {
        using var bed = new SchedulerTestBed(Start);
        for (var i = 0; i < Scheduler.DefaultBatchSize; i++)
        {
            await bed.CreateAsync($"checked-{i}", "* * * * *", configure: d => d.Overlap = OverlapPolicy.SkipWhileUnfinished);
        }

        var scheduler = await FailingOverlapChecksAsync(bed);

        await scheduler.RunOnceAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Start.AddMinutes(2), (await bed.Store.GetScheduleAsync(TenantId.Default, "checked-0", CancellationToken.None))!.NextFireAt);
    }

    /// <summary>
    /// Review: a full batch of schedules that failed to fire at every pass came first in every listing (their tick stays
    /// due), and the pass stopped there: the schedules listed after them were never fired. Now the pass lists past them,
    /// and fires none of them twice.
    /// </summary>
    [Fact]
    public async Task AFullBatchOfSchedulesThatFailToFireAtEveryPass_DoesNotHoldBackTheSchedulesAfterThem()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("failing-0", "* * * * *");
        await bed.CreateAsync("failing-1", "* * * * *");
        var (store, counts) = CountingStore.Wrap(bed.Store);
        var records = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        counts.BeforeCall = (name, args) =>
        {
            if (name == nameof(IJobStore.TryRecordScheduleFireAsync) && args![0] is ScheduleFire fire)
            {
                records.AddOrUpdate(fire.Name, 1, (_, n) => n + 1);
                if (fire.Name.StartsWith("failing-", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"the store refused the fire of schedule '{fire.Name}'");
                }
            }
        };
        var scheduler = bed.NewScheduler(store, batchSize: 2);
        bed.Time.Advance(TimeSpan.FromMinutes(1));
        await scheduler.RunOnceAsync(CancellationToken.None);

        // Its tick comes after theirs, which they keep as they fail again.
        await bed.CreateAsync("later", "* * * * *");
        bed.Time.Advance(TimeSpan.FromMinutes(1));
        await scheduler.RunOnceAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.NotNull(await bed.Store.GetAsync(TenantId.Default, ScheduleTickId.For(TenantId.Default, "later", Start.AddMinutes(2)), CancellationToken.None));
        Assert.Equal(Start.AddMinutes(3), (await bed.Store.GetScheduleAsync(TenantId.Default, "later", CancellationToken.None))!.NextFireAt);
        Assert.Equal(Start.AddMinutes(1), (await bed.Store.GetScheduleAsync(TenantId.Default, "failing-0", CancellationToken.None))!.NextFireAt);
        Assert.Equal(2, records["failing-0"]);
        Assert.Equal(2, records["failing-1"]);
    }

    /// <summary>Runs the first tick, then gives a scheduler whose store fails every read of a job (the overlap check's), at the second.</summary>
    private static async Task<Scheduler> FailingOverlapChecksAsync(SchedulerTestBed bed)
    {
        await bed.RunUntilAsync(Start.AddMinutes(1), TimeSpan.FromMinutes(1));
        var (store, counts) = CountingStore.Wrap(bed.Store);
        counts.AfterCall = name => _ = name == nameof(IJobStore.GetAsync) ? throw new InvalidOperationException("the read failed") : 0;
        bed.Time.Advance(TimeSpan.FromMinutes(1));
        return bed.NewScheduler(store);
    }

    private static async Task<LeasedJob> LeaseOneAsync(SchedulerTestBed bed) =>
        Assert.Single(await bed.Store.DequeueAsync(new DequeueRequest
        {
            Queues = [new QueueQuota(QueueName.Default, 1)], Limit = 1, ServerId = "s", LeaseDuration = TimeSpan.FromMinutes(30),
        }, CancellationToken.None));

    private static async Task SucceedAsync(SchedulerTestBed bed, LeasedJob job) =>
        await bed.Store.AcknowledgeManyAsync([new JobAcknowledgement { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Succeeded }], CancellationToken.None);

    [Fact]
    public async Task Overlap_Allow_RunsEveryTick()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("report", "* * * * *");

        await bed.RunUntilAsync(Start.AddMinutes(3), TimeSpan.FromMinutes(1));

        Assert.Equal(3, (await bed.TicksAsync()).Count);
        Assert.Equal(0, bed.Misfired("report", "overlap"));
    }

    [Fact]
    public async Task Paused_NoTicks_AndResumeStartsFromTheNextTickAfterNow()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("report", "* * * * *");
        await bed.Schedules.PauseAsync(TenantId.Default, "report");

        await bed.RunUntilAsync(Start.AddMinutes(10), TimeSpan.FromMinutes(1));
        Assert.Empty(await bed.TicksAsync());

        var resumed = await bed.Schedules.ResumeAsync(TenantId.Default, "report");
        Assert.Equal(Start.AddMinutes(11), resumed!.NextFireAt);
        await bed.RunUntilAsync(Start.AddMinutes(11), TimeSpan.FromMinutes(1));
        Assert.Equal([Start.AddMinutes(11)], await bed.TicksAsync());
        Assert.Equal(0, bed.Misfired("report", "once"));
    }

    // A replace that changes the cron of a running schedule gives it the new cron's next tick, whatever "paused" the
    // replacing definition says (a replace keeps the pause state).
    [Fact]
    public async Task CronReplaced_ByADefinitionThatSaysPaused_OfARunningSchedule_TicksOnTheNewCron()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("report", "0 3 * * *");

        var replaced = await bed.Schedules.UpdateAsync(new ScheduleDefinition { Name = "report", Cron = "*/5 * * * *", TimeZone = "UTC", JobType = "test:echo", Payload = """{"text":"tick"}""", Paused = true });

        Assert.False(replaced!.Paused);
        Assert.Equal(Start.AddMinutes(5), replaced.NextFireAt);
    }

    [Fact]
    public async Task Trigger_EnqueuesNowWithoutMovingTheTicks()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("report", "0 3 * * *");

        var result = await bed.Schedules.TriggerAsync(TenantId.Default, "report");

        Assert.NotNull(result);
        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
        var schedule = await bed.Schedules.GetAsync(TenantId.Default, "report");
        Assert.Equal(result.JobId, schedule!.LastJobId);
        Assert.Equal(Start.AddHours(3), schedule.NextFireAt);
        Assert.Null(await bed.Schedules.TriggerAsync(TenantId.Default, "missing"));
    }

    [Fact]
    public async Task TickIds_OfTwoTenantsSchedulesOfTheSameName_DoNotCollide()
    {
        using var bed = new SchedulerTestBed(Start);
        await bed.CreateAsync("report", "* * * * *");
        await bed.CreateAsync("report", "* * * * *", configure: d => d.Tenant = "acme");

        await bed.RunUntilAsync(Start.AddMinutes(1), TimeSpan.FromMinutes(1));

        Assert.Single(await bed.TicksAsync());
        Assert.Single(await bed.TicksAsync("acme"));
    }

    [Fact]
    public void TickId_TooLongToRead_IsHashed_AndStillCarriesTheInstant()
    {
        var name = new string('n', ScheduleValidator.MaxNameLength);
        var id = ScheduleTickId.For(new string('t', TenantId.MaxLength), name, Start);

        Assert.True(JobId.IsValid(id));
        Assert.Equal(Start, ScheduleTickId.ScheduledAt(id));
        Assert.NotEqual(id, ScheduleTickId.For(new string('u', TenantId.MaxLength), name, Start));
        Assert.Null(ScheduleTickId.ScheduledAt("job_0123"));
    }

    [Fact]
    public async Task NextTicks_ListsTheComingTicksInTheScheduleZone()
    {
        using var bed = new SchedulerTestBed(Start);
        var schedule = await bed.CreateAsync("daily", "@daily", "Europe/Berlin");

        var ticks = bed.Schedules.NextTicks(schedule, 3);

        Assert.Equal([Start.AddHours(22), Start.AddHours(46), Start.AddHours(70)], ticks);
    }
}
