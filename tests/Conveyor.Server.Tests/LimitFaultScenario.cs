using Conveyor.Server.SampleJobs;
using Conveyor.Storage;

namespace Conveyor.Server.Tests;

/// <summary>
/// A concurrency limit through faults, with real Conveyor.Server processes: a worker SIGKILLed while its job holds the
/// limit's slot, and a store restart while the slots are full. A watcher reads the queue's running count all along;
/// the limit is never exceeded, and every job ends succeeded (no slot leaked: a leaked slot is a job stuck running).
/// Linked into the Redis and PostgreSQL test projects, which give the store, the worker settings and the restart.
/// </summary>
internal sealed class LimitFaultScenario(IJobClient client, IJobStore store, IReadOnlyDictionary<string, string> storeSettings, Action<string> log)
{
    /// <summary>Worker settings: the store's, a short lease, and at most <paramref name="max"/> demo:sleep jobs running at once.</summary>
    public Dictionary<string, string> WorkerSettings(int max, int concurrency, TimeSpan lease)
    {
        var settings = new Dictionary<string, string>(storeSettings)
        {
            ["Conveyor__Server__Concurrency"] = concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Conveyor__Server__LeaseDuration"] = lease.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
            ["Conveyor__Server__RecoverInterval"] = "00:00:01",
            ["Conveyor__Limits__Concurrency__sleepers__Queue"] = QueueName.Default,
            ["Conveyor__Limits__Concurrency__sleepers__JobType"] = DemoSleep.JobType,
            ["Conveyor__Limits__Concurrency__sleepers__Max"] = max.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Conveyor__Samples__Produce"] = "false",
        };
        return settings;
    }

    /// <summary>
    /// Limit 1, three jobs: the first worker runs one and is killed holding the slot; a second worker runs the other
    /// two and the killed one again, one at a time, once the killed job's lease is recovered.
    /// </summary>
    public async Task KilledWorkerFreesItsSlotWhenItsLeaseIsRecoveredAsync(string directory)
    {
        // The lease, renewed every third of it, outlasts the 3 s jobs by far: only a stall of over 5 s on a loaded
        // machine would recover a live job and count an attempt the test does not expect.
        var settings = WorkerSettings(max: 1, concurrency: 4, lease: TimeSpan.FromSeconds(8));
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await client.EnqueueAsync(new DemoSleep(3))).JobId);
        }

        using var watcher = new RunningWatcher(store);
        string killedJob;
        using (var first = WorkerProcess.Start(directory, settings))
        {
            await UntilAsync(async () => (await RunningAsync()) == 1, TimeSpan.FromSeconds(90), "the first worker did not start a job", first);
            killedJob = (await JobsAsync(ids)).Single(j => j.State == JobState.Active).Id;
            first.KillHard();
            Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        log($"killed the worker running {killedJob}");
        using var second = WorkerProcess.Start(directory, settings);
        await UntilAsync(async () => (await JobsAsync(ids)).All(j => j.State == JobState.Succeeded), TimeSpan.FromSeconds(120), "not every job succeeded", second);

        var jobs = await JobsAsync(ids);
        var killed = jobs.Single(j => j.Id == killedJob);
        Assert.Equal(2, killed.Attempts);
        Assert.Contains(killed.Errors, e => e.Message.Contains("lease", StringComparison.OrdinalIgnoreCase));
        Assert.All(jobs.Where(j => j.Id != killedJob), j => Assert.Equal(1, j.Attempts));
        // The killed job's slot stayed taken until its lease was recovered: no other job started before that.
        var recovered = killed.Errors.Single(e => e.Message.Contains("lease", StringComparison.OrdinalIgnoreCase)).OccurredAt;
        Assert.All(jobs.Where(j => j.Id != killedJob), j => Assert.True(j.StartedAt >= recovered, $"{j.Id} started at {j.StartedAt:O}, before the killed job's slot was recovered at {recovered:O}"));
        log($"most running at once: {watcher.MostRunning} (limit 1), over {watcher.Reads} reads");
        Assert.Equal(1, watcher.MostRunning);
    }

    /// <summary>
    /// Limit 2, ten jobs on a worker of six slots: the store restarts while both slots are taken; the worker rides it
    /// out, and every job runs with never more than two at once.
    /// </summary>
    public async Task StoreRestartNeitherLeaksSlotsNorExceedsTheLimitAsync(string directory, Func<Task> restart)
    {
        var settings = WorkerSettings(max: 2, concurrency: 6, lease: TimeSpan.FromSeconds(10));
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add((await client.EnqueueAsync(new DemoSleep(2))).JobId);
        }

        using var watcher = new RunningWatcher(store);
        using var worker = WorkerProcess.Start(directory, settings);
        await UntilAsync(async () => (await JobsAsync(ids)).Count(j => j.State == JobState.Succeeded) >= 2 && await RunningAsync() == 2, TimeSpan.FromSeconds(90), "the worker did not fill the two slots", worker);

        await restart();
        log("the store restarted");
        await UntilAsync(async () => (await JobsAsync(ids)).All(j => j.State == JobState.Succeeded), TimeSpan.FromSeconds(180), "not every job succeeded after the restart", worker);

        var stats = (await Retry(() => store.GetQueueStatsAsync(CancellationToken.None).AsTask())).Single(s => s.Queue == QueueName.Default);
        Assert.Equal(0, stats.Pending + stats.Active + stats.Retrying + stats.Scheduled);
        Assert.False(worker.HasExited, $"the worker exited. Output:\n{worker.Output}");
        log($"most running at once: {watcher.MostRunning} (limit 2), over {watcher.Reads} reads; store unavailable to {watcher.Unavailable} reads");
        Assert.True(watcher.MostRunning <= 2, $"{watcher.MostRunning} jobs ran at once under a limit of 2");
        Assert.Equal(2, watcher.MostRunning);
    }

    private async Task<long> RunningAsync() =>
        (await Retry(() => store.GetQueueStatsAsync(CancellationToken.None).AsTask())).Where(s => s.Queue == QueueName.Default).Sum(s => s.Active);

    private async Task<List<JobInfo>> JobsAsync(List<string> ids)
    {
        var jobs = new List<JobInfo>(ids.Count);
        foreach (var id in ids)
        {
            jobs.Add((await Retry(() => store.GetAsync(TenantId.Default, id, CancellationToken.None).AsTask()))!);
        }

        return jobs;
    }

    private static async Task<T> Retry<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (JobStoreUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string because, params WorkerProcess[] workers)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{because} within {timeout}. Worker output:\n{string.Join("\n----\n", workers.Select(w => w.Output))}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Reads the default queue's running count every 20 ms until disposed, keeping the most seen.</summary>
    private sealed class RunningWatcher : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private long _most;

        public RunningWatcher(IJobStore store) => _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var running = (await store.GetQueueStatsAsync(_stop.Token)).Where(s => s.Queue == QueueName.Default).Sum(s => s.Active);
                    Interlocked.Exchange(ref _most, Math.Max(Interlocked.Read(ref _most), running));
                    Reads++;
                }
                catch (JobStoreUnavailableException)
                {
                    Unavailable++;
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }

                try
                {
                    await Task.Delay(20, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });

        public long MostRunning => Interlocked.Read(ref _most);

        public int Reads { get; private set; }

        public int Unavailable { get; private set; }

        public void Dispose()
        {
            _stop.Cancel();
            _loop.Wait(TimeSpan.FromSeconds(10));
            _stop.Dispose();
        }
    }
}
