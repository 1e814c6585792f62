using Conveyor.Server.SampleJobs;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Conveyor.Server.Tests.CrashTestStore;

namespace Conveyor.Server.Tests;

/// <summary>
/// Handler idempotency across real worker processes: a worker SIGKILLed in the middle of its handlers, duplicates of
/// every key, and two more workers to finish. Each key's side effect (a line in the sample's outbox) happens exactly
/// once, while the killed jobs ran more than once. On SQLite always; on Redis and PostgreSQL when the test command
/// started them (CONVEYOR_TEST_REDIS, CONVEYOR_TEST_POSTGRES).
/// </summary>
public sealed class IdempotencyCrashTests(ITestOutputHelper output)
{
    private const int Keys = 8;

    // Long enough that the kill, which follows the first handlers' start by a poll interval, lands before any effect.
    private const int HandlerDelayMs = 5000;

    public static TheoryData<string> Stores() => CrashTestStore.Stores();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task WorkerKilledMidHandler_WithDuplicates_EachKeysEffectHappensOnce_WhileKilledJobsRanAgain(string store)
    {
        using var scope = new CrashTestStore(store, "idempotency");
        await using var provider = scope.CreateClientServices();
        var client = provider.GetRequiredService<IJobClient>();
        var jobs = provider.GetRequiredService<IJobStore>();
        await jobs.InitializeAsync(CancellationToken.None); // the schema, before any worker made it
        var ids = new List<string>();
        for (var key = 1; key <= Keys; key++)
        {
            // Two jobs of the same work, side by side in the queue: one worker fetches both at once.
            for (var copy = 0; copy < 2; copy++)
            {
                ids.Add((await client.EnqueueAsync(new NotifyNoteShared(key, $"reader{key}@example.com", HandlerDelayMs))).JobId);
            }
        }

        using (var doomed = WorkerProcess.Start(scope.Directory, Settings(scope)))
        {
            await WaitUntilAsync(async () => (await StatesAsync(jobs, ids)).Count(s => s.State == JobState.Active) >= 2, TimeSpan.FromSeconds(60), doomed);
            doomed.KillHard();
            Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.True(scope.OutboxLines().Count == 0, "the kill came after a handler's effect: make HandlerDelayMs longer");
        using var second = WorkerProcess.Start(scope.Directory, Settings(scope));
        using var third = WorkerProcess.Start(scope.Directory, Settings(scope));
        await WaitUntilAsync(async () => (await StatesAsync(jobs, ids)).All(s => s.State == JobState.Succeeded), TimeSpan.FromSeconds(180), second, third);

        var finished = await StatesAsync(jobs, ids);
        var effects = scope.OutboxLines();
        foreach (var line in effects)
        {
            output.WriteLine($"effect: key {line[0]}, job {line[1]}, attempt {line[2]}");
        }

        foreach (var line in (second.Output + "\n" + third.Output).Split('\n').Where(l => l.Contains("dempoten", StringComparison.Ordinal) || l.Contains("warn", StringComparison.OrdinalIgnoreCase) || l.Contains("fail", StringComparison.OrdinalIgnoreCase)))
        {
            output.WriteLine($"worker: {line}");
        }

        foreach (var job in finished)
        {
            output.WriteLine($"{job.Id}: attempts {job.Attempts}; {string.Join(" | ", job.Errors.Select(e => e.Message))}");
        }

        // Exactly once per key, by one of its two jobs.
        Assert.Equal(Keys, effects.Count);
        Assert.Equal(Keys, effects.Select(l => l[0]).Distinct().Count());
        // The other job of each key was acknowledged without running, and says so.
        Assert.Equal(Keys, finished.Count(j => j.Errors.Any(e => e.Message.StartsWith("Not run: idempotency key", StringComparison.Ordinal))));
        // Some jobs ran more than once: the killed worker's, recovered through their expired leases.
        var killed = finished.Where(j => j.Errors.Any(e => e.Message.Contains("lease", StringComparison.OrdinalIgnoreCase))).ToList();
        Assert.True(killed.Count >= 2, $"expected the killed worker's jobs to have run again; {killed.Count} did");
        Assert.All(killed, j => Assert.True(j.Attempts >= 2));
    }

    private static Dictionary<string, string> Settings(CrashTestStore scope) => scope.WorkerSettings(new()
    {
        ["Conveyor__Server__Concurrency"] = "4",
        // Well beyond a handler and any stall of a loaded machine: a live worker that lost its lease would let a
        // duplicate run the effect beside it (the documented limit, not what this test is about). The killed
        // worker's keys come free a lease after the kill.
        ["Conveyor__Server__LeaseDuration"] = "00:00:10",
    });
}
