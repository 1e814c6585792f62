using System.Diagnostics;
using Conveyor.Server.SampleJobs;
using Conveyor.Server.Tests;
using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Conveyor.Redis.Tests;

/// <summary>Real worker processes (Conveyor.Server) on the Redis store: killed mid-job, and a cancel that crosses processes.</summary>
public sealed class RedisServerProcessTests(ITestOutputHelper output) : IAsyncDisposable
{
    private readonly string _prefix = RedisTestEnvironment.NewPrefix();
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-redis-worker-").FullName;
    private ServiceProvider? _client;

    [RedisFact]
    public async Task WorkerKilledWithSigkillMidJob_ItsLeaseExpiresAndAnotherWorkerFinishesTheJob()
    {
        var (client, store) = await CreateClientAsync();
        var enqueued = await client.EnqueueAsync(new DemoSleep(4));

        using (var first = StartWorker())
        {
            await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Active, TimeSpan.FromSeconds(60), first);
            first.KillHard();
            Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        var killedAt = DateTimeOffset.UtcNow;
        using var second = StartWorker();
        var rerun = await WaitForAsync(store, enqueued.JobId, j => j.Attempts == 2 && j.State == JobState.Active, TimeSpan.FromSeconds(60), second);
        output.WriteLine($"The killed worker's job ran again {(rerun.StartedAt!.Value - killedAt).TotalSeconds:F2} s after the kill (start-up included).");

        var done = await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Succeeded, TimeSpan.FromSeconds(60), second);
        Assert.Equal(2, done.Attempts);
        Assert.Contains(done.Errors, e => e.Message.Contains("lease", StringComparison.OrdinalIgnoreCase));
    }

    [RedisFact]
    public async Task CancelOfARunningJob_ReachesTheWorkerProcess_AndItsHandlerStops()
    {
        var (client, store) = await CreateClientAsync();
        var enqueued = await client.EnqueueAsync(new DemoSleep(120));
        using var worker = StartWorker();
        await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Active, TimeSpan.FromSeconds(60), worker);

        var clock = Stopwatch.StartNew();
        Assert.Equal(JobCommandResult.Requested, await store.CancelAsync(TenantId.Default, enqueued.JobId, CancellationToken.None));
        var cancelled = await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Cancelled, TimeSpan.FromSeconds(30), worker);

        // Pub/sub reaches the worker in milliseconds; lease extension alone would take a third of the lease.
        output.WriteLine($"Cancelled {clock.Elapsed.TotalMilliseconds:F0} ms after the request.");
        Assert.Equal(1, cancelled.Attempts);
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private WorkerProcess StartWorker() => WorkerProcess.Start(_directory, new Dictionary<string, string>
    {
        ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        ["Conveyor__Store"] = "redis",
        ["Conveyor__Redis__Configuration"] = RedisTestEnvironment.Endpoint!,
        ["Conveyor__Redis__KeyPrefix"] = _prefix,
        ["Conveyor__Server__Concurrency"] = "4",
    });

    private async Task<(IJobClient Client, IJobStore Store)> CreateClientAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddConveyor().UseRedis(o =>
        {
            o.Configuration = RedisTestEnvironment.Endpoint!;
            o.KeyPrefix = _prefix;
        });
        _client = services.BuildServiceProvider();
        var store = _client.GetRequiredService<IJobStore>();
        await store.InitializeAsync(CancellationToken.None);
        return (_client.GetRequiredService<IJobClient>(), store);
    }

    private static async Task<JobInfo> WaitForAsync(IJobStore store, string jobId, Func<JobInfo, bool> condition, TimeSpan timeout, WorkerProcess worker)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await store.GetAsync(TenantId.Default, jobId, CancellationToken.None);
            if (job is not null && condition(job))
            {
                return job;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Job {jobId} did not reach the expected state within {timeout} (it is {job?.State}, attempt {job?.Attempts}). Worker output:\n{worker.Output}");
            }

            await Task.Delay(50);
        }
    }
}
