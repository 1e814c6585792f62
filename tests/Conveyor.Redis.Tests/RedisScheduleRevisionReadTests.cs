using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A schedule read from Redis carries a revision no newer than the definition and next tick read with it: a replace at
/// that revision must never overwrite a write the reader did not see. Read by separate commands (of one batch, or a due
/// listing's range before the transaction), another connection's script landed between them.
/// </summary>
public sealed class RedisScheduleRevisionReadTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));

    [RedisFact]
    public async Task List_WhileAnotherServerTogglesAPause_NeverReturnsARevisionNewerThanItsDefinition()
    {
        await using var servers = await TwoServers.StartAsync(_time);
        var (writer, reader) = (servers.Writer, servers.Reader);
        var ct = CancellationToken.None;

        // Many long names: the list's commands are large enough that Redis reads them in several turns.
        var padding = new string('x', 200);
        for (var i = 0; i < 3000; i++)
        {
            Assert.True(await writer.TryCreateScheduleAsync(Schedule($"s{i:D5}:{padding}"), ct));
        }

        Assert.True(await writer.TryCreateScheduleAsync(Schedule("toggled"), ct));
        var first = (await writer.GetScheduleAsync(TenantId.Default, "toggled", ct))!.Revision;

        // Each write names the revision it makes in the queue, and pauses or resumes.
        using var stop = new CancellationTokenSource();
        var toggles = ToggleAsync(writer, read => read with
        {
            Queue = $"q{read.Revision + 1}",
            Paused = !read.Paused,
            NextFireAt = read.Paused ? _time.GetUtcNow().AddHours(1) : null,
        }, stop.Token);

        var torn = new List<string>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var lists = 0;
        // Separate reads paired them within 3 lists of 3,000 schedules.
        while (lists < 100 && watch.Elapsed < TimeSpan.FromSeconds(20) && torn.Count == 0)
        {
            var listed = await reader.ListSchedulesAsync(null, ct);
            lists++;
            var toggled = listed.Single(s => s.Name == "toggled");
            // A revision newer than the definition read with it lets a replace decided on that definition overwrite
            // the writes in between (an older one only makes the replace lose and read again).
            var definitionRevision = toggled.Queue is null ? first : long.Parse(toggled.Queue[1..], System.Globalization.CultureInfo.InvariantCulture);
            if (toggled.Revision > definitionRevision)
            {
                torn.Add($"definition of revision {definitionRevision} (paused={toggled.Paused}, next={toggled.NextFireAt}) read with revision {toggled.Revision}");
            }
        }

        stop.Cancel();
        var written = await toggles;
        Assert.True(written > 0);
        Assert.True(torn.Count == 0, $"after {lists} lists and {written} toggles: {string.Join("; ", torn)}");
    }

    [RedisFact]
    public async Task ListDue_WhileAnotherServerRecordsTicks_NeverReturnsARevisionNewerThanItsNextTick()
    {
        await using var servers = await TwoServers.StartAsync(_time);
        var (writer, reader) = (servers.Writer, servers.Reader);
        var ct = CancellationToken.None;
        var first = _time.GetUtcNow().AddDays(-1);
        Assert.True(await writer.TryCreateScheduleAsync(new ScheduleRecord
        {
            Tenant = TenantId.Default, Name = "ticking", Cron = "* * * * *", TimeZone = "UTC", JobType = "report:generate",
            Payload = """{"a":1}"""u8.ToArray(), Origin = ScheduleOrigin.Runtime, NextFireAt = first,
        }, ct));
        var created = (await writer.GetScheduleAsync(TenantId.Default, "ticking", ct))!.Revision;

        // Tick k moves the next tick from first + k minutes to first + k + 1 minutes: revision created + k goes with first + k.
        using var stop = new CancellationTokenSource();
        var ticks = Task.Run(async () =>
        {
            var k = 0;
            while (!stop.IsCancellationRequested && k < 1000)
            {
                Assert.True(await writer.TryRecordScheduleFireAsync(new ScheduleFire
                {
                    Tenant = TenantId.Default, Name = "ticking", ExpectedNextFireAt = first.AddMinutes(k),
                    NextFireAt = first.AddMinutes(k + 1), LastFireAt = first.AddMinutes(k),
                }, ct));
                k++;
            }

            return k;
        }, ct);

        var torn = new List<string>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!ticks.IsCompleted && watch.Elapsed < TimeSpan.FromSeconds(20) && torn.Count < 3)
        {
            var due = Assert.Single(await reader.ListDueSchedulesAsync(_time.GetUtcNow(), 10, ct));
            var k = (long)(due.NextFireAt!.Value - first).TotalMinutes;
            if (due.Revision != created + k)
            {
                torn.Add($"next tick {k} read with revision {due.Revision - created}");
            }
        }

        stop.Cancel();
        await ticks;
        Assert.True(torn.Count == 0, string.Join("; ", torn));
    }

    [RedisFact]
    public async Task ListDue_WhileAnotherServerPausesAndResumesADueSchedule_StillReturnsAFullBatchWhileMoreAreDue()
    {
        await using var servers = await TwoServers.StartAsync(_time);
        var (writer, reader) = (servers.Writer, servers.Reader);
        var ct = CancellationToken.None;
        for (var i = 0; i < 20; i++)
        {
            Assert.True(await writer.TryCreateScheduleAsync(Schedule($"due{i:D2}") with { NextFireAt = _time.GetUtcNow().AddHours(-1) }, ct));
        }

        // Due before all of them while it runs: listed first, and paused again, often between the range and its read.
        Assert.True(await writer.TryCreateScheduleAsync(Schedule("toggled") with { NextFireAt = _time.GetUtcNow().AddHours(-2) }, ct));
        using var stop = new CancellationTokenSource();
        var toggles = ToggleAsync(writer, read => read with
        {
            Paused = !read.Paused,
            NextFireAt = read.Paused ? _time.GetUtcNow().AddHours(-2) : null,
        }, stop.Token);

        // The scheduler ends its pass on a listing shorter than it asked for: one left short by a schedule paused or
        // moved since its range was read hid the due schedules after it until the next poll.
        var shortLists = new List<string>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var lists = 0;
        while (lists < 3000 && watch.Elapsed < TimeSpan.FromSeconds(20) && shortLists.Count == 0)
        {
            var due = await reader.ListDueSchedulesAsync(_time.GetUtcNow(), 10, ct);
            lists++;
            if (due.Count != 10)
            {
                shortLists.Add($"{due.Count} of 10: {string.Join(", ", due.Select(s => s.Name))}");
            }
        }

        stop.Cancel();
        var written = await toggles;
        Assert.True(written > 0);
        Assert.True(shortLists.Count == 0, $"after {lists} listings and {written} toggles: {string.Join("; ", shortLists)}");
    }

    /// <summary>Replaces the schedule "toggled" with <paramref name="next"/> of its last read until stopped; how many writes won.</summary>
    private static Task<int> ToggleAsync(RedisJobStore writer, Func<ScheduleRecord, ScheduleRecord> next, CancellationToken stop) => Task.Run(async () =>
    {
        var count = 0;
        while (!stop.IsCancellationRequested)
        {
            var read = (await writer.GetScheduleAsync(TenantId.Default, "toggled", CancellationToken.None))!;
            if (await writer.TryReplaceScheduleAsync(next(read), CancellationToken.None))
            {
                count++;
            }
        }

        return count;
    }, CancellationToken.None);

    private ScheduleRecord Schedule(string name) => new()
    {
        Tenant = TenantId.Default,
        Name = name,
        Cron = "0 3 * * *",
        TimeZone = "UTC",
        JobType = "report:generate",
        Payload = """{"kind":"nightly"}"""u8.ToArray(),
        Origin = ScheduleOrigin.Runtime,
        NextFireAt = _time.GetUtcNow().AddHours(1),
    };

    /// <summary>Two servers' stores on one prefix, each with its own connection: one writes while the other reads.</summary>
    private sealed class TwoServers : IAsyncDisposable
    {
        private readonly ConnectionMultiplexer[] _connections;

        private TwoServers(ConnectionMultiplexer[] connections, TimeProvider time)
        {
            _connections = connections;
            var prefix = RedisTestEnvironment.NewPrefix();
            Writer = new RedisJobStore(connections[0], new RedisStoreOptions { KeyPrefix = prefix }, time);
            Reader = new RedisJobStore(connections[1], new RedisStoreOptions { KeyPrefix = prefix }, time);
        }

        public RedisJobStore Writer { get; }

        public RedisJobStore Reader { get; }

        public static async Task<TwoServers> StartAsync(TimeProvider time) => new(
            [await ConnectionMultiplexer.ConnectAsync(RedisTestEnvironment.Endpoint!), await ConnectionMultiplexer.ConnectAsync(RedisTestEnvironment.Endpoint!)], time);

        public async ValueTask DisposeAsync()
        {
            await Writer.DisposeAsync();
            await Reader.DisposeAsync();
            foreach (var connection in _connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
