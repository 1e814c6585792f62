using Conveyor.Server.SampleJobs;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Conveyor.Server.Tests.CrashTestStore;

namespace Conveyor.Server.Tests;

/// <summary>
/// Workflows across real worker processes: a worker SIGKILLed while it runs a continuation's dependency and a batch's
/// members. Nothing is released by the kill; after the leases expire, other workers run the killed jobs again, and each
/// dependant and batch callback is released and runs exactly once, the batch counting each member once. On SQLite
/// always; on Redis and PostgreSQL when the test command started them (CONVEYOR_TEST_REDIS, CONVEYOR_TEST_POSTGRES).
/// </summary>
public sealed class WorkflowCrashTests(ITestOutputHelper output)
{
    private const int Members = 3;

    // Long enough that the kill, which follows the jobs' start by a poll interval, lands while they run.
    private const int SleepSeconds = 8;

    public static TheoryData<string> Stores() => CrashTestStore.Stores();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task WorkerKilledMidDependencyAndMidBatchMembers_EachDependantAndCallbackRunsOnceAfterRecovery(string store)
    {
        using var scope = new CrashTestStore(store, "flow");
        await using var provider = scope.CreateClientServices();
        var client = provider.GetRequiredService<IJobClient>();
        var workflows = provider.GetRequiredService<IWorkflowClient>();
        var jobs = provider.GetRequiredService<IJobStore>();
        await jobs.InitializeAsync(CancellationToken.None); // the schema, before any worker made it

        // A continuation chain: child after parent succeeded, grandchild after child finished, and a clean-up that
        // runs after the parent whatever its outcome.
        var parent = (await client.EnqueueAsync(new DemoSleep(SleepSeconds))).JobId;
        var child = (await client.EnqueueAsync(new DemoSleep(0), new JobOptions { After = [parent] })).JobId;
        var grandchild = (await client.EnqueueAsync(new DemoSleep(0), new JobOptions { After = [child], AfterCondition = ContinuationCondition.Finished })).JobId;
        var cleanup = (await client.EnqueueAsync(new DemoSleep(0), new JobOptions { After = [parent], AfterCondition = ContinuationCondition.Finished })).JobId;

        // A batch whose members all run in the worker that is killed, with both callbacks.
        var members = Enumerable.Range(0, Members).Select(_ => client.CreateJob(new DemoSleep(SleepSeconds))).ToList();
        var onSuccess = client.CreateJob(new DemoSleep(0));
        var onComplete = client.CreateJob(new DemoSleep(0));
        var batch = await workflows.StartBatchAsync(members, new BatchOptions { OnSuccess = onSuccess, OnComplete = onComplete });
        Assert.True(batch.Created);

        string[] killed = [parent, .. members.Select(m => m.Id)];
        string[] released = [child, grandchild, cleanup, onSuccess.Id, onComplete.Id];
        using (var doomed = WorkerProcess.Start(scope.Directory, Settings(scope)))
        {
            await WaitUntilAsync(async () => (await StatesAsync(jobs, killed)).All(j => j.State == JobState.Active), TimeSpan.FromSeconds(90), doomed);
            doomed.KillHard();
            Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        // The kill finished nothing, so it released nothing.
        Assert.All(await StatesAsync(jobs, killed), j => Assert.Equal(JobState.Active, j.State));
        Assert.All(await StatesAsync(jobs, released), j => Assert.Equal(JobState.Waiting, j.State));
        Assert.Equal(BatchState.Running, (await workflows.GetBatchAsync(batch.BatchId, TenantId.Default))!.State);

        using var second = WorkerProcess.Start(scope.Directory, Settings(scope));
        using var third = WorkerProcess.Start(scope.Directory, Settings(scope));
        string[] all = [.. killed, .. released];
        await WaitUntilAsync(async () => (await StatesAsync(jobs, all)).All(j => j.State == JobState.Succeeded), TimeSpan.FromSeconds(240), second, third);

        var finished = await StatesAsync(jobs, all);
        foreach (var job in finished)
        {
            output.WriteLine($"{job.Id} ({job.State}): attempts {job.Attempts}; {string.Join(" | ", job.Errors.Select(e => e.Message))}");
        }

        // The killed jobs ran again after the recovery took them back ...
        Assert.All(finished.Where(j => killed.Contains(j.Id)), j =>
        {
            Assert.True(j.Attempts >= 2, $"{j.Id} ran {j.Attempts} time(s)");
            Assert.Contains(j.Errors, e => e.Message.Contains("lease", StringComparison.OrdinalIgnoreCase));
        });

        // ... and what waited for them was released once: each ran exactly once, with no error.
        Assert.All(finished.Where(j => released.Contains(j.Id)), j => Assert.Equal((1, 0), (j.Attempts, j.Errors.Count)));
        var info = await workflows.GetBatchAsync(batch.BatchId, TenantId.Default);
        Assert.Equal((BatchState.Succeeded, Members, Members, 0, 0), (info!.State, info.Total, info.Succeeded, info.Failed, info.Cancelled));
        Assert.All(await StatesAsync(jobs, released), j => Assert.Equal(JobState.Succeeded, j.State));
    }

    private static Dictionary<string, string> Settings(CrashTestStore scope) => scope.WorkerSettings(new()
    {
        ["Conveyor__Server__Concurrency"] = "8",
        // Well beyond a stall of a loaded machine, so that a live worker never loses a lease: the only jobs run
        // twice are the killed worker's, taken back a lease after the kill.
        ["Conveyor__Server__LeaseDuration"] = "00:00:10",
    });
}
