using System.Text;
using Conveyor.Server.SampleJobs;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Conveyor.Server.Tests.CrashTestStore;

namespace Conveyor.Server.Tests;

/// <summary>
/// Waits for a signal across real worker processes: a worker SIGKILLed while its jobs are parked waiting, the signals
/// delivered, a second worker SIGKILLed in the middle of the resumed runs, and a third to finish. Every job publishes
/// once, with its own signal's payload, and asks for its review once. On SQLite always; on Redis and PostgreSQL when the
/// test command started them (CONVEYOR_TEST_REDIS, CONVEYOR_TEST_POSTGRES).
/// </summary>
public sealed class SignalCrashTests(ITestOutputHelper output)
{
    private const int Jobs = 4;

    // Long enough that the kill, which follows the resumed runs' start by a poll interval, lands before they publish.
    private const int PublishDelayMs = 4000;

    public static TheoryData<string> Stores() => CrashTestStore.Stores();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task WorkersKilledWhileParkedAndWhileResumed_EachJobPublishesOnceWithItsSignal(string store)
    {
        using var scope = new CrashTestStore(store, "signals");
        await using var provider = scope.CreateClientServices();
        var client = provider.GetRequiredService<IJobClient>();
        var jobs = provider.GetRequiredService<IJobStore>();
        await jobs.InitializeAsync(CancellationToken.None);
        var ids = new List<string>();
        for (var note = 1; note <= Jobs; note++)
        {
            ids.Add((await client.EnqueueAsync(new PublishNote(note, PublishDelayMs))).JobId);
        }

        // 1. The first worker parks every job at its wait; killed then, it holds nothing the jobs need.
        using (var first = WorkerProcess.Start(scope.Directory, Settings(scope)))
        {
            await WaitUntilAsync(async () => (await StatesAsync(jobs, ids)).All(j => j.State == JobState.Scheduled && j.SnoozeReason?.StartsWith("Waiting for signal 'approved'", StringComparison.Ordinal) == true), TimeSpan.FromSeconds(60), first);
            first.KillHard();
            Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.All(await StatesAsync(jobs, ids), j => Assert.Equal((JobState.Scheduled, 0), (j.State, j.Attempts)));

        // 2. The signals resume the parked jobs at once, with no worker running.
        for (var i = 0; i < ids.Count; i++)
        {
            Assert.Equal(JobSignalResult.Resumed, await jobs.SignalAsync(TenantId.Default, ids[i], PublishNoteHandler.ApprovedSignal, Approval(i), CancellationToken.None));
        }

        Assert.All(await StatesAsync(jobs, ids), j => Assert.Equal(JobState.Pending, j.State));

        // 3. The second worker takes the resumed jobs and is killed in the middle of them, before they publish.
        using (var second = WorkerProcess.Start(scope.Directory, Settings(scope)))
        {
            await WaitUntilAsync(async () => (await StatesAsync(jobs, ids)).All(j => j.State == JobState.Active), TimeSpan.FromSeconds(60), second);
            second.KillHard();
            Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.DoesNotContain(scope.OutboxLines(), l => l[0] == "publish");

        // 4. The third recovers them and finishes.
        using var third = WorkerProcess.Start(scope.Directory, Settings(scope));
        await WaitUntilAsync(async () => (await StatesAsync(jobs, ids)).All(j => j.State == JobState.Succeeded), TimeSpan.FromSeconds(120), third);

        var finished = await StatesAsync(jobs, ids);
        var lines = scope.OutboxLines();
        foreach (var line in lines)
        {
            output.WriteLine(string.Join(' ', line));
        }

        foreach (var job in finished)
        {
            output.WriteLine($"{job.Id}: attempts {job.Attempts}; {string.Join(" | ", job.Errors.Select(e => e.Message))}");
        }

        // Each job asked for its review once (on its first attempt) and published once, with its own signal.
        Assert.Equal(ids.Order(StringComparer.Ordinal), lines.Where(l => l[0] == "review").Select(l => l[2]).Order(StringComparer.Ordinal));
        Assert.All(lines.Where(l => l[0] == "review"), l => Assert.Equal("1", l[3]));
        var published = lines.Where(l => l[0] == "publish").ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), published.Select(l => l[2]).Order(StringComparer.Ordinal));
        Assert.All(published, l => Assert.Equal(Encoding.UTF8.GetString(Approval(ids.IndexOf(l[2]))), l[4]));

        // The parked attempt did not count; the killed resumed run did (its lease expired): published on attempt 2.
        Assert.All(finished, j => Assert.Equal(2, j.Attempts));
        Assert.All(published, l => Assert.Equal("2", l[3]));
        foreach (var id in ids)
        {
            var signal = Assert.Single((await jobs.GetStepsAsync(TenantId.Default, id, CancellationToken.None))!, s => s.Name == JobSignal.StepName(PublishNoteHandler.ApprovedSignal));
            Assert.Equal(Approval(ids.IndexOf(id)), signal.Result.ToArray());
            Assert.Equal(JobSignalResult.Finished, await jobs.SignalAsync(TenantId.Default, id, PublishNoteHandler.ApprovedSignal, "true"u8.ToArray(), CancellationToken.None));
        }
    }

    private static byte[] Approval(int index) => Encoding.UTF8.GetBytes($$"""{"by":"editor-{{index}}"}""");

    private static Dictionary<string, string> Settings(CrashTestStore scope) => scope.WorkerSettings(new()
    {
        ["Conveyor__Server__Concurrency"] = "4",
        // Short, so that the killed worker's jobs come back soon; renewed every third of it, so only a stall of over
        // 6 s in the 4 s publish would recover a live job and count an attempt the test does not expect.
        ["Conveyor__Server__LeaseDuration"] = "00:00:10",
    });
}
