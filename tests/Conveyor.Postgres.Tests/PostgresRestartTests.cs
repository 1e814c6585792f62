using System.Diagnostics;
using Conveyor.Storage;

namespace Conveyor.Postgres.Tests;

/// <summary>Restarting the server touches every test that uses it, so these run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerRestartCollection
{
    public const string Name = "PostgreSQL server restarts";
}

[Collection(ServerRestartCollection.Name)]
public sealed class PostgresRestartTests : IAsyncLifetime
{
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(10);
    private readonly PostgresTestSchema _schema = new();
    private readonly FakeTimeProvider _time = new(TestJobs.StartTime);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _schema.DisposeAsync();

    [PostgresFact]
    public async Task Restart_WhileAStoreIsCalled_CallsFailAsUnavailableThenEveryJobSucceeds()
    {
        RequireRestartableCluster();
        var store = await _schema.CreateInitializedStoreAsync(_time);
        const int count = 400;
        await store.EnqueueManyAsync(Enumerable.Range(0, count).Select(_ => TestJobs.New()).ToArray(), CancellationToken.None);
        var processed = 0;
        var unavailable = 0;
        var restarted = 0;
        var lease = TimeSpan.FromSeconds(30);

        async Task<T> RetryAsync<T>(Func<Task<T>> call)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    return await call();
                }
                catch (JobStoreUnavailableException) when (clock.Elapsed < TimeSpan.FromSeconds(60))
                {
                    Interlocked.Increment(ref unavailable);
                    await Task.Delay(20);
                }
            }
        }

        async Task WorkAsync()
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(90))
            {
                var jobs = await RetryAsync(() => store.DequeueAsync(TestJobs.Dequeue(5, lease: lease), CancellationToken.None).AsTask());
                if (jobs.Count == 0)
                {
                    var stats = await RetryAsync(() => store.GetQueueStatsAsync(CancellationToken.None).AsTask());
                    if (stats.Sum(s => s.Succeeded) == count)
                    {
                        // On a fast machine every job may be done before the server goes down: keep calling the
                        // store until the restart is over, so that calls are in flight while it happens.
                        if (Volatile.Read(ref restarted) == 1)
                        {
                            return;
                        }

                        await Task.Delay(5);
                        continue;
                    }

                    // A dequeue whose answer was lost in the outage left its jobs leased to nobody: they come
                    // back when the lease expires, as they would after a worker crash.
                    _time.Advance(lease + TimeSpan.FromSeconds(1));
                    await RetryAsync(() => store.RecoverExpiredLeasesAsync(100, CancellationToken.None).AsTask());
                    continue;
                }

                // An acknowledgement whose answer was lost is sent again; if the first one applied, the second
                // finds the lease gone and changes nothing.
                await RetryAsync(() => store.AcknowledgeManyAsync(jobs.Select(TestJobs.Succeeded).ToArray(), CancellationToken.None).AsTask());
                Interlocked.Add(ref processed, jobs.Count);
                await Task.Delay(2);
            }
        }

        var worker = Task.Run(WorkAsync);
        await TestWait.UntilAsync(() => Volatile.Read(ref processed) >= 40 || worker.IsCompleted);
        await RestartServerAsync();
        Volatile.Write(ref restarted, 1);
        await TestWait.CompletesAsync(worker.ContinueWith(static t => t, TaskScheduler.Default), "the worker did not finish");
        await worker;

        Assert.True(unavailable > 0, "no call failed during the restart, so the test proved nothing");
        var final = Assert.Single(await store.GetQueueStatsAsync(CancellationToken.None));
        Assert.Equal(count, final.Succeeded);
        Assert.Equal(0, final.Pending + final.Active + final.Retrying + final.Failed);
    }

    [PostgresFact]
    public async Task Restart_ListeningConnection_ListensAgainAndALaterEnqueueWakesTheWaiter()
    {
        RequireRestartableCluster();
        var producer = await _schema.CreateInitializedStoreAsync(_time);
        var worker = await _schema.CreateInitializedStoreAsync(_time);
        var connectionsBefore = worker.Notifier.Connections;

        await RestartServerAsync();
        await TestWait.UntilAsync(() => worker.Notifier.Connections > connectionsBefore && worker.Notifier.IsListening, TimeSpan.FromSeconds(30), "the listener did not come back");

        // The reconnect itself signals once (notifications may have been missed); consume it.
        while (await worker.WaitForJobsAsync(TimeSpan.Zero, CancellationToken.None))
        {
        }

        var wait = worker.WaitForJobsAsync(LongWait, CancellationToken.None).AsTask();
        await EnqueueRetryingAsync(producer, TestJobs.New());

        Assert.True(await TestWait.CompletesAsync(wait, "an enqueue after the restart did not wake the waiter"));
    }

    [PostgresFact]
    public async Task Restart_WhileTheStoreIsIdle_ItsFirstCallAfterwardsSucceeds()
    {
        RequireRestartableCluster();
        var store = await _schema.CreateInitializedStoreAsync(_time);

        // Idle connections in the pool, which the restart closes on the server's side while nobody uses them: more than
        // the listener's reconnects could spend before it listens again.
        var connections = new List<Npgsql.NpgsqlConnection>();
        for (var i = 0; i < 30; i++)
        {
            connections.Add(await store.DataSource.OpenConnectionAsync());
        }

        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }

        var connectionsBefore = store.Notifier.Connections;

        await RestartServerAsync();
        await TestWait.UntilAsync(() => store.Notifier.Connections > connectionsBefore && store.Notifier.IsListening, TimeSpan.FromSeconds(30), "the listener did not come back");

        // A user's first request after an outage that is over must not be the one that finds a dead connection.
        for (var call = 0; call < 40; call++)
        {
            await store.EnqueueAsync(TestJobs.New(), CancellationToken.None);
        }

        Assert.Equal(40, Assert.Single(await store.GetQueueStatsAsync(CancellationToken.None)).Pending);
    }

    private static async Task EnqueueRetryingAsync(PostgresJobStore store, NewJob job)
    {
        // The producer's pooled connections died with the server: the first call may fail, once.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.EnqueueAsync(job, CancellationToken.None);
                return;
            }
            catch (JobStoreUnavailableException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private static void RequireRestartableCluster()
    {
        if (PostgresTestServer.BinDirectory is null || PostgresTestServer.DataDirectory is null)
        {
            throw new InvalidOperationException("CONVEYOR_TEST_POSTGRES_BIN and CONVEYOR_TEST_POSTGRES_DATA are not set: start the cluster with eng/services/postgres.sh.");
        }
    }

    /// <summary>pg_ctl restart -m fast on the test cluster, as the postgres OS user when we are root.</summary>
    internal static async Task RestartServerAsync()
    {
        var pgCtl = Path.Combine(PostgresTestServer.BinDirectory!, "pg_ctl");
        var data = PostgresTestServer.DataDirectory!;
        var log = Path.Combine(Path.GetDirectoryName(data)!, "postgres.log");
        var asRoot = Environment.UserName == "root";
        var start = new ProcessStartInfo(asRoot ? "runuser" : pgCtl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asRoot)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", pgCtl })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in new[] { "-D", data, "-l", log, "-m", "fast", "-w", "-t", "60", "restart" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"pg_ctl restart failed: {await errors}");
    }
}
