using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Conveyor.Storage;
using Xunit.Abstractions;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// A server that accepts connections but never answers (every PostgreSQL process stopped with SIGSTOP, as a stopped VM
/// or a partition that drops packets). Freezing the cluster touches every test that uses it, so these run with the restarts.
/// </summary>
[Collection(ServerRestartCollection.Name)]
public sealed class PostgresFrozenServerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int SigCont = 18;
    private const int NoSuchProcess = 3; // ESRCH
    private const int SigStop = 19;
    private readonly PostgresTestSchema _schema = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _schema.DisposeAsync();

    [PostgresTheory]
    [InlineData(1)]
    [InlineData(40)]
    public async Task FrozenServer_CallsWhoseTokensAreCancelled_EndSoonAfterTheCancel(int calls)
    {
        // The real clock: how long the store waits after its token is cancelled is the subject.
        var store = await _schema.CreateInitializedStoreAsync(TimeProvider.System);
        var enqueued = await store.EnqueueAsync(TestJobs.New(), CancellationToken.None);
        Assert.NotNull(await store.GetAsync(TenantId.Default, enqueued.JobId, CancellationToken.None));

        var frozen = Freeze();
        try
        {
            // Each call cancelled on its own, as the Jobs API cancels each request at its StoreTimeout; many at once
            // are what a frozen server under load gives (their cancel requests must not queue behind each other).
            var timeouts = Enumerable.Range(0, calls).Select(_ => new CancellationTokenSource()).ToArray();
            var clock = Stopwatch.StartNew();
            var running = timeouts.Select(t => store.GetAsync(TenantId.Default, enqueued.JobId, t.Token).AsTask()).ToArray();
            var all = Task.WhenAll(running);
            await TestWait.AssertStillRunningAsync(all, TimeSpan.FromSeconds(1), "the frozen server answered");

            // Npgsql's cancel request to the frozen server waits twice the connection Timeout (30 s with the defaults),
            // on the thread that cancels unless the store keeps it off that thread, so the cancels are not awaited
            // before the calls are.
            var cancelled = Stopwatch.StartNew();
            var cancelling = timeouts.Select(t => t.CancelAsync()).ToArray();
            await Task.WhenAny(Task.WhenAll(running.Select(c => c.ContinueWith(_ => { }, TaskScheduler.Default))), Task.Delay(TimeSpan.FromSeconds(15)));
            var after = cancelled.Elapsed;
            Assert.True(running.All(c => c.IsCompleted), $"{running.Count(c => !c.IsCompleted)} of {calls} calls still ran {after.TotalSeconds:F1} s after their tokens were cancelled");
            foreach (var call in running)
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
            }

            Assert.True(cancelling.All(c => c.IsCompleted), "a thread that cancelled a token is held by the store's cancel request");
            output.WriteLine($"{calls} calls ended {after.TotalSeconds:F1} s after their tokens were cancelled ({clock.Elapsed.TotalSeconds:F1} s in all).");
            foreach (var timeout in timeouts)
            {
                timeout.Dispose();
            }
        }
        finally
        {
            Thaw(frozen);
        }

        // The server answers again: so does the store, on fresh connections where the frozen ones broke.
        await TestWait.UntilAsync(
            async () =>
            {
                try
                {
                    return await store.GetAsync(TenantId.Default, enqueued.JobId, CancellationToken.None) is not null;
                }
                catch (JobStoreUnavailableException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(60),
            "the store did not answer after the server was resumed");
    }

    [PostgresFact]
    public async Task FrozenServer_AnOpenWhoseTokenIsCancelled_EndsSoonAfterTheCancel()
    {
        // Opened once, so that the second open finds idle connections and a listener, and waits on the server itself.
        var store = await _schema.CreateInitializedStoreAsync(TimeProvider.System);

        var frozen = Freeze();
        try
        {
            // What a host stopped during its start does: the migrations' lock is taken on a server that never answers.
            using var stopping = new CancellationTokenSource();
            var open = store.InitializeAsync(stopping.Token).AsTask();
            await TestWait.AssertStillRunningAsync(open, TimeSpan.FromSeconds(1), "the frozen server answered");

            var cancelled = Stopwatch.StartNew();
            var cancelling = stopping.CancelAsync();
            await Task.WhenAny(open.ContinueWith(_ => { }, TaskScheduler.Default), Task.Delay(TimeSpan.FromSeconds(15)));
            Assert.True(open.IsCompleted, $"the open still ran {cancelled.Elapsed.TotalSeconds:F1} s after its token was cancelled");
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => open);
            Assert.True(cancelling.IsCompleted, "the thread that cancelled the token is held by the store's cancel request");
        }
        finally
        {
            Thaw(frozen);
        }

        await store.InitializeAsync(CancellationToken.None);
    }

    [PostgresFact]
    public async Task FrozenServer_DisposingTheStore_DoesNotWaitForItsListenerToBeAnswered()
    {
        // What the host does after its stop: dispose the store, whose listening connection is told to UNLISTEN. The
        // process must not outlive its termination grace waiting for that answer (the Command Timeout and then Npgsql's
        // cancel request: a minute with the defaults).
        var store = await _schema.CreateInitializedStoreAsync(TimeProvider.System);
        await TestWait.UntilAsync(() => store.Notifier.IsListening, TimeSpan.FromSeconds(10), "the store did not listen");

        var frozen = Freeze();
        try
        {
            var disposed = Stopwatch.StartNew();
            var disposing = store.DisposeAsync().AsTask();
            await Task.WhenAny(disposing, Task.Delay(TimeSpan.FromSeconds(15)));
            Assert.True(disposing.IsCompleted, $"the store's disposal still ran {disposed.Elapsed.TotalSeconds:F1} s into it");
            await disposing;
            output.WriteLine($"The store was disposed in {disposed.Elapsed.TotalSeconds:F1} s.");
        }
        finally
        {
            Thaw(frozen);
        }
    }

    /// <summary>Stops the postmaster first (so that it starts no new backend) and then every process it started.</summary>
    private static List<int> Freeze()
    {
        if (PostgresTestServer.DataDirectory is not { } data)
        {
            throw new InvalidOperationException("CONVEYOR_TEST_POSTGRES_DATA is not set: start the cluster with eng/services/postgres.sh.");
        }

        var postmaster = int.Parse(File.ReadLines(Path.Combine(data, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        var frozen = new List<int>();
        try
        {
            Signal(postmaster, SigStop);
            frozen.Add(postmaster);
            foreach (var child in ChildrenOf(postmaster))
            {
                // A backend that ended since the scan (its session closed) has nothing to freeze.
                if (kill(child, SigStop) == 0)
                {
                    frozen.Add(child);
                }
                else if (Marshal.GetLastPInvokeError() != NoSuchProcess)
                {
                    throw new InvalidOperationException($"kill({child}, SIGSTOP) failed: errno {Marshal.GetLastPInvokeError()}");
                }
            }
        }
        catch
        {
            Thaw(frozen);
            throw;
        }

        return frozen;
    }

    private static void Thaw(List<int> frozen)
    {
        foreach (var pid in frozen)
        {
            _ = kill(pid, SigCont);
        }
    }

    private static void Signal(int pid, int signal) =>
        Assert.True(kill(pid, signal) == 0, $"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");

    /// <summary>The processes whose parent is <paramref name="parent"/>, from /proc/[pid]/stat (the fourth field).</summary>
    private static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
            {
                yield return pid;
            }
        }
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SA1300, IDE1006 // the libc name
    private static extern int kill(int pid, int signal);
#pragma warning restore SA1300, IDE1006
}
