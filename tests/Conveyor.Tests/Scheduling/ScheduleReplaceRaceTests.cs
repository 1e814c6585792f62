using System.Reflection;
using Conveyor.Scheduling;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Scheduling;

/// <summary>
/// A change of a schedule reads it, decides and writes it back: a pause, a change or a tick another writer lands between
/// the read and the write is kept, not overwritten with what was read before it (review CJ-2).
/// </summary>
public sealed class ScheduleReplaceRaceTests
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly FakeTimeProvider _time = new(Start);
    private readonly InMemoryJobStore _inner;

    public ScheduleReplaceRaceTests() => _inner = new InMemoryJobStore(_time);

    private ScheduleClient Client(IJobStore store) =>
        // The job client is not used by the changes under test.
        new(store, jobs: null!, Options.Create(new ConveyorOptions()), _time);

    private static ScheduleDefinition Definition(string cron = "0 3 * * *", string payload = """{"text":"a"}""") =>
        new() { Name = "nightly", Cron = cron, TimeZone = "UTC", JobType = "test:echo", Payload = payload };

    private async Task<ScheduleRecord> StoredAsync() => (await _inner.GetScheduleAsync(TenantId.Default, "nightly", Ct))!;

    private async Task PauseDirectlyAsync()
    {
        var read = await StoredAsync();
        Assert.True(await _inner.TryReplaceScheduleAsync(read with { Paused = true, NextFireAt = null }, Ct));
    }

    [Fact]
    public async Task Update_APauseLandsBetweenItsReadAndItsWrite_ThePauseIsKept()
    {
        var created = await Client(_inner).CreateAsync(Definition(), Ct);
        Assert.NotNull(created);

        var updated = await Client(RaceStore.Create(_inner, PauseDirectlyAsync)).UpdateAsync(Definition(payload: """{"text":"b"}"""), Ct);

        Assert.NotNull(updated);
        Assert.True(updated.Paused);
        Assert.Null(updated.NextFireAt);
        Assert.Equal("""{"text":"b"}""", System.Text.Encoding.UTF8.GetString(updated.Payload.Span));
        Assert.Equal(created.Revision + 2, updated.Revision);
    }

    [Fact]
    public async Task Pause_AChangeLandsBetweenItsReadAndItsWrite_TheChangeIsKept()
    {
        Assert.NotNull(await Client(_inner).CreateAsync(Definition(), Ct));

        var paused = await Client(RaceStore.Create(_inner, () => Client(_inner).UpdateAsync(Definition(cron: "0 6 * * *"), Ct)))
            .PauseAsync(TenantId.Default, "nightly", Ct);

        Assert.NotNull(paused);
        Assert.True(paused.Paused);
        Assert.Equal("0 6 * * *", paused.Cron);
    }

    [Fact]
    public async Task Update_ATickRecordedBetweenItsReadAndItsWrite_KeepsTheNextTick()
    {
        Assert.NotNull(await Client(_inner).CreateAsync(Definition(), Ct));
        var firstTick = Start.AddHours(3);
        Assert.Equal(firstTick, (await StoredAsync()).NextFireAt);

        async Task TickAsync()
        {
            _time.Advance(TimeSpan.FromHours(3));
            Assert.True(await _inner.TryRecordScheduleFireAsync(new ScheduleFire
            {
                Tenant = TenantId.Default, Name = "nightly", ExpectedNextFireAt = firstTick,
                NextFireAt = firstTick.AddDays(1), LastFireAt = firstTick, LastJobId = "tick-1",
            }, Ct));
        }

        // Not retimed: the update keeps the stored next tick, which is the tick recorded meanwhile, not the one it read.
        var updated = await Client(RaceStore.Create(_inner, TickAsync)).UpdateAsync(Definition(payload: """{"text":"b"}"""), Ct);

        Assert.Equal(firstTick.AddDays(1), updated!.NextFireAt);
        Assert.Equal("tick-1", updated.LastJobId);
        Assert.Equal("""{"text":"b"}""", System.Text.Encoding.UTF8.GetString(updated.Payload.Span));
    }

    [Fact]
    public async Task Reconcile_APauseLandsBetweenTheListAndTheReplace_ThePauseIsKept()
    {
        ScheduleRecord Code(string cron) =>
            ScheduleValidator.ToRecord(Definition(cron), ScheduleOrigin.Code, _time.GetUtcNow());
        await ScheduleReconciler.ReconcileAsync(_inner, [Code("0 3 * * *")], _time.GetUtcNow(), NullLogger.Instance, Ct);

        await ScheduleReconciler.ReconcileAsync(RaceStore.Create(_inner, PauseDirectlyAsync), [Code("0 6 * * *")], _time.GetUtcNow(), NullLogger.Instance, Ct);

        var stored = await StoredAsync();
        Assert.Equal("0 6 * * *", stored.Cron);
        Assert.True(stored.Paused);
        Assert.Null(stored.NextFireAt);
    }

    [Fact]
    public async Task Pause_TheScheduleIsDeletedAndCreatedAgainBetweenItsReadAndItsWrite_TheNewDefinitionIsKept()
    {
        Assert.NotNull(await Client(_inner).CreateAsync(Definition(), Ct));

        async Task CreateAgainAsync()
        {
            Assert.True(await Client(_inner).DeleteAsync(TenantId.Default, "nightly", Ct));
            Assert.NotNull(await Client(_inner).CreateAsync(Definition(cron: "0 6 * * *", payload: """{"text":"new"}"""), Ct));
        }

        // The pause decided on the deleted schedule must not write its definition over the new one.
        var paused = await Client(RaceStore.Create(_inner, CreateAgainAsync)).PauseAsync(TenantId.Default, "nightly", Ct);

        Assert.NotNull(paused);
        Assert.True(paused.Paused);
        Assert.Equal("0 6 * * *", paused.Cron);
        Assert.Equal("""{"text":"new"}""", System.Text.Encoding.UTF8.GetString(paused.Payload.Span));
    }

    [Fact]
    public async Task UpdateUnlessDefinedInCode_AServerStartWritesTheScheduleFromCodeBetweenItsReadAndItsWrite_TheCodeDefinitionIsKept()
    {
        Assert.NotNull(await Client(_inner).CreateAsync(Definition(), Ct));

        // A server starting with the same schedule in its code takes it over (the start's reconcile).
        Task StartWithItInCodeAsync() => ScheduleReconciler.ReconcileAsync(
            _inner, [ScheduleValidator.ToRecord(Definition(cron: "0 6 * * *"), ScheduleOrigin.Code, _time.GetUtcNow())],
            _time.GetUtcNow(), NullLogger.Instance, Ct);

        var answer = await Client(RaceStore.Create(_inner, StartWithItInCodeAsync))
            .UpdateUnlessDefinedInCodeAsync(Definition(cron: "0 9 * * *", payload: """{"text":"b"}"""), Ct);

        Assert.NotNull(answer);
        Assert.Equal(ScheduleOrigin.Code, answer.Origin);
        var stored = await StoredAsync();
        Assert.Equal(ScheduleOrigin.Code, stored.Origin);
        Assert.Equal("0 6 * * *", stored.Cron);
        Assert.Equal("""{"text":"a"}""", System.Text.Encoding.UTF8.GetString(stored.Payload.Span));
    }

    /// <summary>A store that lets another writer in once, just before the first replace reaches the store.</summary>
    public class RaceStore : DispatchProxy
    {
        private IJobStore _inner = null!;
        private Func<Task>? _before;

        public static IJobStore Create(IJobStore inner, Func<Task> before)
        {
            var proxy = Create<IJobStore, RaceStore>();
            var race = (RaceStore)(object)proxy;
            race._inner = inner;
            race._before = before;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IScheduleStore.TryReplaceScheduleAsync) && Interlocked.Exchange(ref _before, null) is { } before)
            {
                // The in-memory store completes at once, so the other writer has landed when this returns.
                before().GetAwaiter().GetResult();
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}
