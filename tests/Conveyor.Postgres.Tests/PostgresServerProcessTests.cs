using Conveyor.Server.SampleJobs;
using Conveyor.Server.Tests;
using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Conveyor.Postgres.Tests;

/// <summary>Real worker processes (Conveyor.Server) on the PostgreSQL store: killed mid-job, and through a server restart.</summary>
[Collection(ServerRestartCollection.Name)]
public sealed class PostgresServerProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly PostgresTestSchema _schema = new();
    private ServiceProvider? _client;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        await _schema.DisposeAsync();
    }

    [PostgresFact]
    public async Task WorkerKilledWithSigkillMidJob_ItsLeaseExpiresAndAnotherWorkerFinishesTheJob()
    {
        var (client, store) = await CreateClientAsync();
        var enqueued = await client.EnqueueAsync(new DemoSleep(4));

        using (var first = ServerProcess.Start(_schema.Name))
        {
            await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Active, TimeSpan.FromSeconds(60), first);
            first.KillHard();
            Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        var killedAt = DateTimeOffset.UtcNow;
        using var second = ServerProcess.Start(_schema.Name);
        var rerun = await WaitForAsync(store, enqueued.JobId, j => j.Attempts == 2 && j.State == JobState.Active, TimeSpan.FromSeconds(60), second);
        output.WriteLine($"The killed worker's job ran again {(rerun.StartedAt!.Value - killedAt).TotalSeconds:F2} s after the kill (start-up included).");

        var done = await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Succeeded, TimeSpan.FromSeconds(60), second);
        Assert.Equal(2, done.Attempts);
        Assert.Contains(done.Errors, e => e.Message.Contains("lease", StringComparison.OrdinalIgnoreCase));
    }

    [PostgresFact]
    public async Task CancelOfARunningJob_ReachesTheWorkerProcessAndItsHandlerStops()
    {
        var (client, store) = await CreateClientAsync();
        var enqueued = await client.EnqueueAsync(new DemoSleep(120));
        using var worker = ServerProcess.Start(_schema.Name);
        await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Active, TimeSpan.FromSeconds(60), worker);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(JobCommandResult.Requested, await store.CancelAsync(TenantId.Default, enqueued.JobId, CancellationToken.None));
        var cancelled = await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Cancelled, TimeSpan.FromSeconds(30), worker);

        // NOTIFY reaches the worker in milliseconds; the handler's token is cancelled and its acknowledgement is
        // batched. Lease extension alone would take a third of the lease.
        output.WriteLine($"Cancelled {clock.Elapsed.TotalMilliseconds:F0} ms after the request.");
        Assert.Equal(1, cancelled.Attempts);
    }

    [PostgresFact]
    public async Task ServerRestartedWhileAWorkerRuns_EveryJobIsProcessedNoneLostNoneStuck()
    {
        var (client, store) = await CreateClientAsync();
        const int count = 300;
        var jobs = Enumerable.Range(0, count).Select(_ => client.CreateJob(new DemoSleep(0))).ToArray();
        await client.EnqueueManyAsync(jobs);

        using var worker = ServerProcess.Start(_schema.Name, concurrency: 8);
        await TestWait.UntilAsync(async () => (await SucceededAsync(store)) >= 30, TimeSpan.FromSeconds(60), "the worker did not start processing");
        await PostgresRestartTests.RestartServerAsync();

        // The worker backs off while the server is down, reconnects, and its recoverer returns the jobs whose
        // answers were lost in the outage once their leases expire.
        await TestWait.UntilAsync(async () => (await SucceededAsync(store)) == count, TimeSpan.FromSeconds(90), $"not every job succeeded. Worker output:\n{worker.Output}");
        var stats = Assert.Single(await RetryAsync(() => store.GetQueueStatsAsync(CancellationToken.None).AsTask()));
        Assert.Equal(0, stats.Pending + stats.Active + stats.Retrying + stats.Failed + stats.Scheduled);
        Assert.False(worker.HasExited, $"the worker exited. Output:\n{worker.Output}");
    }

    private async Task<(IJobClient Client, IJobStore Store)> CreateClientAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddConveyor().UsePostgres(o =>
        {
            o.ConnectionString = PostgresTestSchema.ConnectionString;
            o.Schema = _schema.Name;
        });
        _client = services.BuildServiceProvider();
        var store = _client.GetRequiredService<IJobStore>();
        await store.InitializeAsync(CancellationToken.None);
        return (_client.GetRequiredService<IJobClient>(), store);
    }

    private static async Task<long> SucceededAsync(IJobStore store) =>
        (await RetryAsync(() => store.GetQueueStatsAsync(CancellationToken.None).AsTask())).Sum(s => s.Succeeded);

    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (JobStoreUnavailableException) when (attempt < 100)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<JobInfo> WaitForAsync(IJobStore store, string id, Func<JobInfo, bool> condition, TimeSpan timeout, WorkerProcess worker)
    {
        JobInfo? job = null;
        await TestWait.UntilAsync(
            async () =>
            {
                Assert.False(worker.HasExited, $"the worker exited. Output:\n{worker.Output}");
                job = await RetryAsync(() => store.GetAsync(TenantId.Default, id, CancellationToken.None).AsTask());
                return job is not null && condition(job);
            },
            timeout,
            $"job {id} did not reach the expected state (last: {job?.State}, attempts {job?.Attempts}). Worker output:\n{worker.Output}");
        return job!;
    }
}
