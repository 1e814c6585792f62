using Conveyor.Storage;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>
/// A schedule read from Redis carries a revision no newer than the definition read with it: a replace at that revision
/// must never overwrite a write the reader did not see. The definitions, history, revisions and next ticks are read by
/// separate commands of one batch, which another connection's script can land between when the batch is large.
/// </summary>
public sealed class RedisScheduleRevisionReadTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));

    [RedisFact]
    public async Task List_WhileAnotherServerTogglesAPause_NeverReturnsARevisionNewerThanItsDefinition()
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        await using var writerConnection = await ConnectionMultiplexer.ConnectAsync(RedisTestEnvironment.Endpoint!);
        await using var readerConnection = await ConnectionMultiplexer.ConnectAsync(RedisTestEnvironment.Endpoint!);
        await using var writer = new RedisJobStore(writerConnection, new RedisStoreOptions { KeyPrefix = prefix }, _time);
        await using var reader = new RedisJobStore(readerConnection, new RedisStoreOptions { KeyPrefix = prefix }, _time);
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
        var toggles = Task.Run(async () =>
        {
            var count = 0;
            while (!stop.IsCancellationRequested)
            {
                var read = (await writer.GetScheduleAsync(TenantId.Default, "toggled", ct))!;
                if (await writer.TryReplaceScheduleAsync(read with
                {
                    Queue = $"q{read.Revision + 1}",
                    Paused = !read.Paused,
                    NextFireAt = read.Paused ? _time.GetUtcNow().AddHours(1) : null,
                }, ct))
                {
                    count++;
                }
            }

            return count;
        }, ct);

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
}
