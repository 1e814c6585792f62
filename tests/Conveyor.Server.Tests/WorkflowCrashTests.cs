using Conveyor.Server.SampleJobs;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Conveyor.Server.Tests;

/// <summary>
/// Workflows across real worker processes: a worker SIGKILLed while it runs a continuation's dependency and a batch's
/// members. Nothing is released by the kill; after the leases expire, other workers run the killed jobs again, and each
/// dependant and batch callback is released and runs exactly once, the batch counting each member once. On SQLite
/// always; on Redis and PostgreSQL when the test command started them (CONVEYOR_TEST_REDIS, CONVEYOR_TEST_POSTGRES).
/// </summary>
public sealed class WorkflowCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Members = 3;

    // Long enough that the kill, which follows the jobs' start by a poll interval, lands while they run.
    private const int SleepSeconds = 8;

    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-workflow-crash-").FullName;
    private readonly string _scope = "flow" + Guid.NewGuid().ToString("N")[..12];

    public static TheoryData<string> Stores()
    {
        var stores = new TheoryData<string> { "sqlite" };
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CONVEYOR_TEST_REDIS")))
        {
            stores.Add("redis");
        }

        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES")))
        {
            stores.Add("postgres");
        }

        return stores;
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task WorkerKilledMidDependencyAndMidBatchMembers_EachDependantAndCallbackRunsOnceAfterRecovery(string store)
    {
        await using var provider = CreateClientServices(store);
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
        using (var doomed = WorkerProcess.Start(_directory, Settings(store)))
        {
            await WaitUntilAsync(async () => (await StatesAsync(jobs, killed)).All(j => j.State == JobState.Active), TimeSpan.FromSeconds(90), doomed);
            doomed.KillHard();
            Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        // The kill finished nothing, so it released nothing.
        Assert.All(await StatesAsync(jobs, killed), j => Assert.Equal(JobState.Active, j.State));
        Assert.All(await StatesAsync(jobs, released), j => Assert.Equal(JobState.Waiting, j.State));
        Assert.Equal(BatchState.Running, (await workflows.GetBatchAsync(batch.BatchId, TenantId.Default))!.State);

        using var second = WorkerProcess.Start(_directory, Settings(store));
        using var third = WorkerProcess.Start(_directory, Settings(store));
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

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES") is { Length: > 0 } postgres)
        {
            // The PostgreSQL run's schema (a no-op for the other stores' runs).
            using var connection = new Npgsql.NpgsqlConnection(postgres);
            connection.Open();
            using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{_scope}\" CASCADE", connection);
            drop.ExecuteNonQuery();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string DatabasePath => Path.Combine(_directory, "jobs.db");

    private Dictionary<string, string> Settings(string store)
    {
        var settings = new Dictionary<string, string>
        {
            ["Conveyor__Server__Concurrency"] = "8",
            // Well beyond a stall of a loaded machine, so that a live worker never loses a lease: the only jobs run
            // twice are the killed worker's, taken back a lease after the kill.
            ["Conveyor__Server__LeaseDuration"] = "00:00:10",
            ["Conveyor__Samples__DataDirectory"] = _directory,
        };
        switch (store)
        {
            case "sqlite":
                settings["Conveyor__Sqlite__Path"] = DatabasePath;
                break;
            case "redis":
                settings["Conveyor__Store"] = "redis";
                settings["Conveyor__Redis__Configuration"] = Environment.GetEnvironmentVariable("CONVEYOR_TEST_REDIS")!;
                settings["Conveyor__Redis__KeyPrefix"] = _scope;
                break;
            default:
                settings["Conveyor__Store"] = "postgres";
                settings["Conveyor__Postgres__ConnectionString"] = Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES")!;
                settings["Conveyor__Postgres__Schema"] = _scope;
                break;
        }

        return settings;
    }

    private ServiceProvider CreateClientServices(string store)
    {
        var services = new ServiceCollection();
        var conveyor = services.AddConveyor();
        _ = store switch
        {
            "sqlite" => conveyor.UseSqlite(o => o.Path = DatabasePath),
            "redis" => conveyor.UseRedis(o => (o.Configuration, o.KeyPrefix) = (Environment.GetEnvironmentVariable("CONVEYOR_TEST_REDIS")!, _scope)),
            _ => conveyor.UsePostgres(o => (o.ConnectionString, o.Schema) = (Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES")!, _scope)),
        };
        return services.BuildServiceProvider();
    }

    private static async Task<List<JobInfo>> StatesAsync(IJobStore store, IEnumerable<string> ids)
    {
        var jobs = new List<JobInfo>();
        foreach (var id in ids)
        {
            jobs.Add((await store.GetAsync(TenantId.Default, id, CancellationToken.None))!);
        }

        return jobs;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, params WorkerProcess[] workers)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not reached within {timeout}. Worker output:\n{string.Join("\n----\n", workers.Select(w => w.Output))}");
            }

            await Task.Delay(50);
        }
    }
}
