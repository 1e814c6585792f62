namespace Conveyor.Storage.Conformance;

/// <summary>
/// Schedules as store records: create, replace, read, list, due, the compare-and-set that moves a schedule past its
/// ticks, delete, and tenant isolation.
/// </summary>
public abstract class ScheduleTests : JobStoreTestBase
{
    private static ScheduleRecord Schedule(
        string name = "report:nightly",
        string tenant = DefaultTenant,
        DateTimeOffset? nextFireAt = null,
        bool paused = false,
        string cron = "30 2 * * *") => new()
        {
            Tenant = tenant,
            Name = name,
            Cron = cron,
            TimeZone = "Europe/Berlin",
            JobType = "report:generate",
            Payload = """{"kind":"nightly"}"""u8.ToArray(),
            Queue = "low",
            MaxRetry = 5,
            Timeout = TimeSpan.FromMinutes(10),
            Misfire = MisfirePolicy.All,
            Overlap = OverlapPolicy.SkipWhileUnfinished,
            Paused = paused,
            Origin = ScheduleOrigin.Code,
            NextFireAt = paused ? null : nextFireAt ?? StartTime.AddHours(1),
        };

    [Fact]
    public async Task Create_New_IsStoredWithEveryField()
    {
        var schedule = Schedule();
        Assert.True(await Store.TryCreateScheduleAsync(schedule, Ct));

        var stored = await Store.GetScheduleAsync(DefaultTenant, schedule.Name, Ct);
        Assert.NotNull(stored);
        Assert.Equal(schedule.Tenant, stored.Tenant);
        Assert.Equal(schedule.Name, stored.Name);
        Assert.Equal(schedule.Cron, stored.Cron);
        Assert.Equal(schedule.TimeZone, stored.TimeZone);
        Assert.Equal(schedule.JobType, stored.JobType);
        Assert.Equal(schedule.Payload.ToArray(), stored.Payload.ToArray());
        Assert.Equal("low", stored.Queue);
        Assert.Equal(5, stored.MaxRetry);
        Assert.Equal(TimeSpan.FromMinutes(10), stored.Timeout);
        Assert.Equal(MisfirePolicy.All, stored.Misfire);
        Assert.Equal(OverlapPolicy.SkipWhileUnfinished, stored.Overlap);
        Assert.False(stored.Paused);
        Assert.Equal(ScheduleOrigin.Code, stored.Origin);
        Assert.Equal(StartTime.AddHours(1), stored.NextFireAt);
        Assert.Null(stored.LastFireAt);
        Assert.Null(stored.LastJobId);
        Assert.Equal(Now, stored.CreatedAt);
        Assert.Equal(Now, stored.UpdatedAt);
        Assert.InRange(stored.Revision, 0, (1L << 52) - 1);
    }

    [Fact]
    public async Task Create_OptionalFieldsEmpty_ReadBackEmpty()
    {
        var schedule = Schedule() with { Queue = null, MaxRetry = null, Timeout = null, Payload = ReadOnlyMemory<byte>.Empty };
        Assert.True(await Store.TryCreateScheduleAsync(schedule, Ct));

        var stored = await Store.GetScheduleAsync(DefaultTenant, schedule.Name, Ct);
        Assert.NotNull(stored);
        Assert.Null(stored.Queue);
        Assert.Null(stored.MaxRetry);
        Assert.Null(stored.Timeout);
        Assert.Equal(0, stored.Payload.Length);
    }

    [Fact]
    public async Task Create_ExistingName_IsRefusedAndChangesNothing()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(), Ct));
        Assert.False(await Store.TryCreateScheduleAsync(Schedule(cron: "0 * * * *"), Ct));

        var stored = await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct);
        Assert.Equal("30 2 * * *", stored!.Cron);
    }

    [Fact]
    public async Task Create_SameNameInAnotherTenant_IsASeparateSchedule()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(), Ct));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(tenant: "acme", cron: "0 * * * *"), Ct));

        Assert.Equal("30 2 * * *", (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!.Cron);
        Assert.Equal("0 * * * *", (await Store.GetScheduleAsync("acme", "report:nightly", Ct))!.Cron);
    }

    [Fact]
    public async Task Get_AnotherTenantsSchedule_IsNull()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(tenant: "acme"), Ct));

        Assert.Null(await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct));
        Assert.Null(await Store.GetScheduleAsync("acme", "report:other", Ct));
    }

    [Fact]
    public async Task Replace_Existing_ChangesTheDefinitionAndKeepsItsHistory()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(), Ct));
        var createdAt = Now;
        var created = (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!.Revision;
        Time.Advance(TimeSpan.FromHours(2));
        Assert.True(await Store.TryRecordScheduleFireAsync(new ScheduleFire
        {
            Tenant = DefaultTenant, Name = "report:nightly", ExpectedNextFireAt = StartTime.AddHours(1),
            NextFireAt = StartTime.AddDays(1), LastFireAt = StartTime.AddHours(1), LastJobId = "job-1",
        }, Ct));
        Time.Advance(TimeSpan.FromMinutes(5));

        var replacement = Schedule(cron: "0 3 * * *", nextFireAt: StartTime.AddHours(3)) with
        {
            Queue = null, MaxRetry = null, Misfire = MisfirePolicy.Skip, Overlap = OverlapPolicy.Allow, Origin = ScheduleOrigin.Runtime,
            LastJobId = "ignored", LastFireAt = StartTime.AddYears(1), CreatedAt = StartTime.AddYears(1),
            Revision = created + 1, // the tick recorded advanced it
        };
        Assert.True(await Store.TryReplaceScheduleAsync(replacement, Ct));

        var stored = await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct);
        Assert.NotNull(stored);
        Assert.Equal("0 3 * * *", stored.Cron);
        Assert.Null(stored.Queue);
        Assert.Null(stored.MaxRetry);
        Assert.Equal(MisfirePolicy.Skip, stored.Misfire);
        Assert.Equal(OverlapPolicy.Allow, stored.Overlap);
        Assert.Equal(ScheduleOrigin.Runtime, stored.Origin);
        Assert.Equal(StartTime.AddHours(3), stored.NextFireAt);
        Assert.Equal(StartTime.AddHours(1), stored.LastFireAt);
        Assert.Equal("job-1", stored.LastJobId);
        Assert.Equal(createdAt, stored.CreatedAt);
        Assert.Equal(Now, stored.UpdatedAt);
        Assert.Equal(created + 2, stored.Revision);
    }

    [Fact]
    public async Task Replace_Missing_IsRefusedAndCreatesNothing()
    {
        Assert.False(await Store.TryReplaceScheduleAsync(Schedule(), Ct));
        Assert.Null(await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct));
    }

    [Fact]
    public async Task Replace_Paused_TakesItOutOfTheDueListUntilResumed()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(nextFireAt: Now), Ct));
        var created = (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!;
        Assert.True(await Store.TryReplaceScheduleAsync(Schedule(paused: true) with { Revision = created.Revision }, Ct));
        Assert.Empty(await Store.ListDueSchedulesAsync(Now.AddDays(1), 10, Ct));
        var paused = await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct);
        Assert.True(paused!.Paused);
        Assert.Null(paused.NextFireAt);

        Assert.True(await Store.TryReplaceScheduleAsync(Schedule(nextFireAt: Now.AddMinutes(1)) with { Revision = paused.Revision }, Ct));
        Assert.Equal("report:nightly", Assert.Single(await Store.ListDueSchedulesAsync(Now.AddMinutes(1), 10, Ct)).Name);
    }

    [Fact]
    public async Task Replace_AtARevisionWrittenSince_IsRefusedAndKeepsWhatWasWritten()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(), Ct));
        var read = (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!;
        Assert.True(await Store.TryReplaceScheduleAsync(read with { Paused = true, NextFireAt = null }, Ct));

        // A change decided on the read before the pause.
        Assert.False(await Store.TryReplaceScheduleAsync(read with { Cron = "0 3 * * *" }, Ct));

        var stored = (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!;
        Assert.True(stored.Paused);
        Assert.Null(stored.NextFireAt);
        Assert.Equal("30 2 * * *", stored.Cron);
        Assert.Equal(read.Revision + 1, stored.Revision);
        Assert.Empty(await Store.ListDueSchedulesAsync(Now.AddDays(2), 10, Ct));

        Assert.True(await Store.TryReplaceScheduleAsync(stored with { Cron = "0 3 * * *" }, Ct));
        Assert.Equal("0 3 * * *", (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!.Cron);
    }

    [Fact]
    public async Task Replace_AtTheRevisionBeforeATickWasRecorded_IsRefused()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(), Ct));
        var read = (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!;
        Assert.True(await Store.TryRecordScheduleFireAsync(new ScheduleFire
        {
            Tenant = DefaultTenant, Name = "report:nightly", ExpectedNextFireAt = StartTime.AddHours(1),
            NextFireAt = StartTime.AddDays(1), LastFireAt = StartTime.AddHours(1), LastJobId = "job-1",
        }, Ct));

        // Written back as read, the schedule's next tick would be the one just handled.
        Assert.False(await Store.TryReplaceScheduleAsync(read with { Queue = "high" }, Ct));

        var stored = (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!;
        Assert.Equal(StartTime.AddDays(1), stored.NextFireAt);
        Assert.Equal("low", stored.Queue);
        Assert.Equal(read.Revision + 1, stored.Revision);
        Assert.Equal(["report:nightly"], (await Store.ListDueSchedulesAsync(StartTime.AddDays(1), 10, Ct)).Select(s => s.Name));
        Assert.Empty(await Store.ListDueSchedulesAsync(StartTime.AddHours(23), 10, Ct));
    }

    [Fact]
    public async Task Replace_ReadBeforeTheScheduleWasDeletedAndCreatedAgain_IsRefused()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(), Ct));
        var read = (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!;
        Assert.True(await Store.DeleteScheduleAsync(DefaultTenant, "report:nightly", Ct));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(cron: "0 6 * * *"), Ct));

        // A pause decided on the deleted schedule writes its whole definition: it must not land on the new one.
        Assert.False(await Store.TryReplaceScheduleAsync(read with { Paused = true, NextFireAt = null }, Ct));
        Assert.Equal("0 6 * * *", (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!.Cron);
    }

    [Fact]
    public async Task Revision_IsCarriedByEveryRead()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(), Ct));
        var read = (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!;
        Assert.True(await Store.TryReplaceScheduleAsync(read with { Queue = "high" }, Ct));

        Assert.Equal(read.Revision + 1, Assert.Single(await Store.ListSchedulesAsync(DefaultTenant, Ct)).Revision);
        Assert.Equal(read.Revision + 1, Assert.Single(await Store.ListDueSchedulesAsync(Now.AddDays(1), 10, Ct)).Revision);
    }

    [Fact]
    public async Task List_ByTenant_OrderedByNameAndIsolated()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule("b"), Ct));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule("a"), Ct));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule("c", tenant: "acme"), Ct));

        Assert.Equal(["a", "b"], (await Store.ListSchedulesAsync(DefaultTenant, Ct)).Select(s => s.Name));
        Assert.Equal(["c"], (await Store.ListSchedulesAsync("acme", Ct)).Select(s => s.Name));
        Assert.Empty(await Store.ListSchedulesAsync("nobody", Ct));
        Assert.Equal(["acme/c", "default/a", "default/b"], (await Store.ListSchedulesAsync(null, Ct)).Select(s => $"{s.Tenant}/{s.Name}"));
    }

    [Fact]
    public async Task ListDue_ReturnsUnpausedSchedulesDueByThen_EarliestFirst_UpToTheLimit()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule("late", nextFireAt: Now.AddMinutes(3)), Ct));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule("early", nextFireAt: Now.AddMinutes(1)), Ct));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule("middle", tenant: "acme", nextFireAt: Now.AddMinutes(2)), Ct));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule("future", nextFireAt: Now.AddMinutes(10)), Ct));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule("paused", paused: true), Ct));

        Assert.Equal(["early", "middle", "late"], (await Store.ListDueSchedulesAsync(Now.AddMinutes(3), 10, Ct)).Select(s => s.Name));
        Assert.Equal(["early", "middle"], (await Store.ListDueSchedulesAsync(Now.AddMinutes(3), 2, Ct)).Select(s => s.Name));
        Assert.Empty(await Store.ListDueSchedulesAsync(Now, 10, Ct));
    }

    [Fact]
    public async Task ListDue_SameInstant_OrderedByTenantThenName()
    {
        var at = Now.AddMinutes(1);
        Assert.True(await Store.TryCreateScheduleAsync(Schedule("b", nextFireAt: at), Ct));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule("a", tenant: "zeta", nextFireAt: at), Ct));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule("a", nextFireAt: at), Ct));

        Assert.Equal(["default/a", "default/b", "zeta/a"], (await Store.ListDueSchedulesAsync(at, 10, Ct)).Select(s => $"{s.Tenant}/{s.Name}"));
    }

    [Fact]
    public async Task RecordFire_AtTheExpectedTick_MovesTheScheduleOn()
    {
        var tick = Now.AddMinutes(1);
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(nextFireAt: tick), Ct));

        Assert.True(await Store.TryRecordScheduleFireAsync(Fire(tick, tick.AddDays(1), "job-1"), Ct));

        var stored = await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct);
        Assert.Equal(tick.AddDays(1), stored!.NextFireAt);
        Assert.Equal(tick, stored.LastFireAt);
        Assert.Equal("job-1", stored.LastJobId);
        Assert.Empty(await Store.ListDueSchedulesAsync(tick.AddHours(1), 10, Ct));
    }

    [Fact]
    public async Task RecordFire_SecondSchedulerForTheSameTick_IsRefused()
    {
        var tick = Now.AddMinutes(1);
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(nextFireAt: tick), Ct));

        Assert.True(await Store.TryRecordScheduleFireAsync(Fire(tick, tick.AddDays(1), "job-1"), Ct));
        Assert.False(await Store.TryRecordScheduleFireAsync(Fire(tick, tick.AddDays(1), "job-2"), Ct));

        Assert.Equal("job-1", (await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!.LastJobId);
    }

    [Fact]
    public async Task RecordFire_WithoutAJob_KeepsTheLastJobAndCanEndTheSchedule()
    {
        var tick = Now.AddMinutes(1);
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(nextFireAt: tick), Ct));
        Assert.True(await Store.TryRecordScheduleFireAsync(Fire(tick, tick.AddDays(1), "job-1"), Ct));

        Assert.True(await Store.TryRecordScheduleFireAsync(Fire(tick.AddDays(1), null, null), Ct));

        var stored = await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct);
        Assert.Null(stored!.NextFireAt);
        Assert.Equal(tick.AddDays(1), stored.LastFireAt);
        Assert.Equal("job-1", stored.LastJobId);
    }

    [Fact]
    public async Task RecordFire_OnAPausedSchedule_AppliesWhenItExpectsNoTick()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(paused: true), Ct));

        Assert.False(await Store.TryRecordScheduleFireAsync(Fire(Now, null, "job-1"), Ct));
        Assert.True(await Store.TryRecordScheduleFireAsync(new ScheduleFire
        {
            Tenant = DefaultTenant, Name = "report:nightly", ExpectedNextFireAt = null, NextFireAt = null, LastFireAt = Now, LastJobId = "job-2",
        }, Ct));

        var stored = await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct);
        Assert.True(stored!.Paused);
        Assert.Equal("job-2", stored.LastJobId);
        Assert.Empty(await Store.ListDueSchedulesAsync(Now.AddYears(1), 10, Ct));
    }

    [Fact]
    public async Task RecordFire_MissingOrOtherTenant_IsRefused()
    {
        var tick = Now.AddMinutes(1);
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(tenant: "acme", nextFireAt: tick), Ct));

        Assert.False(await Store.TryRecordScheduleFireAsync(Fire(tick, tick.AddDays(1), "job-1"), Ct));
        Assert.Null(await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct));
        Assert.Null((await Store.GetScheduleAsync("acme", "report:nightly", Ct))!.LastJobId);
    }

    [Fact]
    public async Task Delete_RemovesOnlyThatTenantsSchedule()
    {
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(nextFireAt: Now), Ct));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(tenant: "acme", nextFireAt: Now), Ct));

        Assert.True(await Store.DeleteScheduleAsync(DefaultTenant, "report:nightly", Ct));
        Assert.False(await Store.DeleteScheduleAsync(DefaultTenant, "report:nightly", Ct));

        Assert.Null(await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct));
        Assert.Equal(["acme"], (await Store.ListDueSchedulesAsync(Now, 10, Ct)).Select(s => s.Tenant));
        Assert.True(await Store.TryCreateScheduleAsync(Schedule(), Ct));
        Assert.Null((await Store.GetScheduleAsync(DefaultTenant, "report:nightly", Ct))!.LastJobId);
    }

    private static ScheduleFire Fire(DateTimeOffset expected, DateTimeOffset? next, string? jobId) => new()
    {
        Tenant = DefaultTenant,
        Name = "report:nightly",
        ExpectedNextFireAt = expected,
        NextFireAt = next,
        LastFireAt = expected,
        LastJobId = jobId,
    };
}
