using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Conveyor.Storage;
using Xunit.Abstractions;

namespace Conveyor.Server.Tests;

/// <summary>
/// Three real Conveyor.Server processes on one store, all running the scheduler on a schedule that ticks every second;
/// one of them is SIGKILLed while the ticks go on and started again. Every tick instant between the first and the last
/// must have exactly one job (counted by the instant each job carries), and every job must run.
/// Shared by the SQLite, Redis and PostgreSQL test projects, which supply the store settings and a client on the store.
/// </summary>
internal static partial class ThreeServerScheduleRun
{
    public const string ScheduleName = "proof:every-second";

    private const string JobType = "demo:sleep";

    // Ticks to see with all three processes up, with one killed, and after it is back.
    private const int TicksBefore = 5;
    private const int TicksWhileDown = 5;
    private const int TicksAfterRestart = 5;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan TickTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs the three processes, kills and restarts one, and asserts one job per tick.</summary>
    /// <param name="workingDirectory">Where the processes run.</param>
    /// <param name="storeSettings">The environment that puts a server on the shared store.</param>
    /// <param name="store">The test's own view of the same store.</param>
    /// <param name="schedules">The test's schedule client on the same store (to pause the schedule at the end).</param>
    /// <param name="output">Where the processes' output goes.</param>
    public static async Task RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> storeSettings, IJobStore store, IScheduleClient schedules, ITestOutputHelper output)
    {
        var clock = Stopwatch.StartNew();
        var settings = new Dictionary<string, string>(storeSettings)
        {
            ["Conveyor__Server__Concurrency"] = "4",
            ["Conveyor__Schedules__0__Name"] = ScheduleName,
            ["Conveyor__Schedules__0__Cron"] = "* * * * * *",
            ["Conveyor__Schedules__0__JobType"] = JobType,
            ["Conveyor__Schedules__0__Payload"] = """{"seconds":0}""",
            // Each scheduler logs every tick it handles, enqueued or found already enqueued by another one.
            ["Logging__LogLevel__Conveyor.JobServer"] = "Debug",
        };

        var servers = new WorkerProcess?[3];
        var retired = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < servers.Length; i++)
            {
                servers[i] = WorkerProcess.Start(workingDirectory, settings);
            }

            foreach (var server in servers)
            {
                await server!.ListeningAddressAsync(StartTimeout);
            }

            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: three servers listening");
            await WaitForTicksAsync(store, after: null, TicksBefore, servers, "with three servers up");

            // Kill the scheduler that enqueued most ticks so far: the one most likely to be between its enqueue and its
            // compare-and-set when the SIGKILL lands.
            var victim = Enumerable.Range(0, servers.Length).MaxBy(i => EnqueuedBy(servers[i]!));
            servers[victim]!.KillHard();
            Assert.True(await servers[victim]!.WaitForExitAsync(TimeSpan.FromSeconds(10)), "the killed server did not exit");
            var killedAt = DateTimeOffset.UtcNow;
            retired.Add(servers[victim]!);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: killed server {victim} (it had enqueued {EnqueuedBy(servers[victim]!)} ticks)");
            servers[victim] = null;
            await WaitForTicksAsync(store, killedAt, TicksWhileDown, servers, "with one server killed");

            servers[victim] = WorkerProcess.Start(workingDirectory, settings);
            await servers[victim]!.ListeningAddressAsync(StartTimeout);
            var restarted = servers[victim]!;
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: server {victim} restarted");

            // The restarted server takes part again: it handles ticks (enqueues them or finds them enqueued).
            await UntilAsync(() => Task.FromResult(HandledBy(restarted) > 0), TickTimeout, servers, "the restarted server handled no tick");
            var rejoinedAt = DateTimeOffset.UtcNow;
            await WaitForTicksAsync(store, rejoinedAt, TicksAfterRestart, servers, "after the restart");

            var paused = await schedules.PauseAsync(TenantId.Default, ScheduleName);
            Assert.NotNull(paused);
            var pausedAt = DateTimeOffset.UtcNow;
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: schedule paused");

            // Every tick's job runs, including any the killed server held (its lease expires and another server runs it).
            IReadOnlyList<JobInfo> jobs = [];
            await UntilAsync(async () =>
            {
                jobs = await TickJobsAsync(store);
                return jobs.All(j => j.State == JobState.Succeeded);
            }, TickTimeout, servers, "not every tick's job succeeded");
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: every tick's job succeeded");

            var byInstant = jobs.GroupBy(j => InstantOf(j.Id)).OrderBy(g => g.Key).ToList();
            var first = byInstant[0].Key;
            var last = byInstant[^1].Key;
            var expected = (int)(last - first).TotalSeconds + 1;
            output.WriteLine($"{jobs.Count} jobs for {byInstant.Count} instants from {first:HH:mm:ss} to {last:HH:mm:ss} (killed at {killedAt:HH:mm:ss.fff}, back at {rejoinedAt:HH:mm:ss.fff}, paused at {pausedAt:HH:mm:ss.fff})");
            for (var i = 0; i < servers.Length; i++)
            {
                output.WriteLine($"server {i}: enqueued {EnqueuedBy(servers[i]!)} ticks, found {AlreadyEnqueuedBy(servers[i]!)} already enqueued");
            }

            foreach (var gone in retired)
            {
                output.WriteLine($"killed server: enqueued {EnqueuedBy(gone)} ticks, found {AlreadyEnqueuedBy(gone)} already enqueued");
            }

            Assert.All(byInstant, g => Assert.True(g.Count() == 1, $"{g.Count()} jobs for the tick {g.Key:O}: {string.Join(", ", g.Select(j => j.Id))}"));
            Assert.All(byInstant, g => Assert.Equal(0, g.Key.Millisecond));
            var missing = Enumerable.Range(0, expected).Select(s => first.AddSeconds(s)).Except(byInstant.Select(g => g.Key)).ToList();
            Assert.True(missing.Count == 0, $"no job for the ticks {string.Join(", ", missing.Select(m => m.ToString("HH:mm:ss", CultureInfo.InvariantCulture)))}");
            Assert.True(first < killedAt && last > rejoinedAt, "the ticks do not span the kill and the restart");
            Assert.True(byInstant.Count >= TicksBefore + TicksWhileDown + TicksAfterRestart, $"only {byInstant.Count} ticks");

            // Each job ran once, but for one the killed server held: that one ran again after its lease expired.
            var rerun = jobs.Where(j => j.Attempts != 1).ToList();
            Assert.All(rerun, j => Assert.True(j.Attempts == 2 && j.Errors.Any(e => e.Message.Contains("lease", StringComparison.OrdinalIgnoreCase)),
                $"job {j.Id} ran {j.Attempts} times: {string.Join("; ", j.Errors.Select(e => e.Message))}"));
            foreach (var server in servers)
            {
                Assert.False(server!.HasExited, $"a server exited. Output:\n{server.Output}");
            }
        }
        finally
        {
            foreach (var server in servers.Concat(retired))
            {
                server?.Dispose();
            }
        }
    }

    /// <summary>The tick jobs in the store (the only jobs of their type in the test's store).</summary>
    private static async Task<IReadOnlyList<JobInfo>> TickJobsAsync(IJobStore store)
    {
        var jobs = new List<JobInfo>();
        string? cursor = null;
        do
        {
            var page = await store.ListAsync(new JobQuery { Tenant = TenantId.Default, Type = JobType, Limit = JobQuery.MaxLimit, Cursor = cursor }, CancellationToken.None);
            jobs.AddRange(page.Jobs);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return jobs;
    }

    /// <summary>The tick a job was enqueued for, as the job carries it (its id; the handler's JobContext.ScheduledAt).</summary>
    private static DateTimeOffset InstantOf(string jobId)
    {
        Assert.StartsWith($"sch:{TenantId.Default}:{ScheduleName}:", jobId, StringComparison.Ordinal);
        return DateTimeOffset.ParseExact(jobId[(jobId.LastIndexOf(':') + 1)..], "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
    }

    private static async Task WaitForTicksAsync(IJobStore store, DateTimeOffset? after, int count, WorkerProcess?[] servers, string phase) =>
        await UntilAsync(async () =>
        {
            var jobs = await TickJobsAsync(store);
            return jobs.Count(j => after is null || InstantOf(j.Id) > after) >= count;
        }, TickTimeout, servers, $"fewer than {count} ticks {phase}");

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, WorkerProcess?[] servers, string because)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            foreach (var server in servers)
            {
                Assert.False(server is { HasExited: true }, $"a server exited. Output:\n{server?.Output}");
            }

            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (JobStoreUnavailableException) when (deadline.Elapsed < timeout)
            {
                // A busy store (SQLite locked by a server's write) is retried like any other wait.
            }

            if (deadline.Elapsed > timeout)
            {
                var outputs = string.Join("\n\n", servers.Where(s => s is not null).Select((s, i) => $"--- server {i}:\n{s!.Output}"));
                Assert.Fail($"Not within {timeout}: {because}.\n{outputs}");
            }

            await Task.Delay(100);
        }
    }

    private static int EnqueuedBy(WorkerProcess server) => FiredLine().Matches(server.Output).Count(m => m.Groups[1].Value == "enqueued");

    private static int AlreadyEnqueuedBy(WorkerProcess server) => FiredLine().Matches(server.Output).Count(m => m.Groups[1].Value == "already enqueued");

    private static int HandledBy(WorkerProcess server) => FiredLine().Matches(server.Output).Count;

    [GeneratedRegex(@"Schedule proof:every-second of tenant default fired for \S+: job \S+ \((enqueued|already enqueued)\)")]
    private static partial Regex FiredLine();
}
