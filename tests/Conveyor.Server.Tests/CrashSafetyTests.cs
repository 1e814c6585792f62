using System.Diagnostics;
using Conveyor.Server.SampleJobs;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Conveyor.Server.Tests;

/// <summary>Real worker processes on one SQLite file: killed mid-job, and stopped with SIGTERM.</summary>
public sealed class CrashSafetyTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-crash-").FullName;

    private string DatabasePath => Path.Combine(_directory, "jobs.db");

    private Dictionary<string, string> Settings(string shutdownTimeout = "00:00:30") => new()
    {
        ["Conveyor__Sqlite__Path"] = DatabasePath,
        ["Conveyor__Server__Concurrency"] = "4",
        ["Conveyor__Server__ShutdownTimeout"] = shutdownTimeout,
    };

    [Fact]
    public async Task WorkerKilledMidJob_LosesNothing_AndTheJobRunsAgainThroughItsExpiredLease()
    {
        await using var provider = CreateClientServices();
        var client = provider.GetRequiredService<IJobClient>();
        var store = provider.GetRequiredService<IJobStore>();
        var enqueued = await client.EnqueueAsync(new DemoSleep(4));

        using (var first = WorkerProcess.Start(_directory, Settings()))
        {
            await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Active, TimeSpan.FromSeconds(30), first);
            first.KillHard();
            Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        var killedAt = DateTimeOffset.UtcNow;
        using var second = WorkerProcess.Start(_directory, Settings());
        var rerun = await WaitForAsync(store, enqueued.JobId, j => j.Attempts == 2 && j.State == JobState.Active, TimeSpan.FromSeconds(20), second);
        var downtime = rerun.StartedAt!.Value - killedAt;
        output.WriteLine($"The killed worker's job was running again {downtime.TotalSeconds:F2} s after the kill (second process start-up included).");

        var done = await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Succeeded, TimeSpan.FromSeconds(20), second);
        Assert.Equal(2, done.Attempts);
        Assert.Contains(done.Errors, e => e.Message.Contains("lease", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Sigterm_PastTheGrace_CancelsTheHandler_AndReturnsTheJobWithoutCountingTheAttempt()
    {
        await using var provider = CreateClientServices();
        var client = provider.GetRequiredService<IJobClient>();
        var store = provider.GetRequiredService<IJobStore>();
        var enqueued = await client.EnqueueAsync(new DemoSleep(120));

        using var worker = WorkerProcess.Start(_directory, Settings(shutdownTimeout: "00:00:01"));
        await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Active, TimeSpan.FromSeconds(30), worker);
        var stopwatch = Stopwatch.StartNew();
        worker.Terminate();

        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(20)), "the worker did not exit after SIGTERM");
        output.WriteLine($"Exited {stopwatch.Elapsed.TotalSeconds:F2} s after SIGTERM with code {worker.ExitCode}.");
        var job = await store.GetAsync(TenantId.Default, enqueued.JobId, CancellationToken.None);
        Assert.True(job!.State == JobState.Pending, $"the job is {job.State} ({string.Join("; ", job.Errors.Select(e => e.Message))}). Worker output:\n{worker.Output}");
        Assert.Equal(0, job.Attempts);
        Assert.Empty(job.Errors);
        Assert.Equal(0, worker.ExitCode);
    }

    [Fact]
    public async Task Sigterm_WithinTheGrace_LetsTheRunningJobFinish()
    {
        await using var provider = CreateClientServices();
        var client = provider.GetRequiredService<IJobClient>();
        var store = provider.GetRequiredService<IJobStore>();
        var enqueued = await client.EnqueueAsync(new DemoSleep(2));

        using var worker = WorkerProcess.Start(_directory, Settings());
        await WaitForAsync(store, enqueued.JobId, j => j.State == JobState.Active, TimeSpan.FromSeconds(30), worker);
        worker.Terminate();

        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the worker did not exit after SIGTERM");
        var job = await store.GetAsync(TenantId.Default, enqueued.JobId, CancellationToken.None);
        Assert.True(job!.State == JobState.Succeeded, $"the job is {job.State} ({string.Join("; ", job.Errors.Select(e => e.Message))}). Worker output:\n{worker.Output}");
        Assert.Equal(1, job.Attempts);
    }

    [Fact]
    public async Task InvalidSetting_StopsTheProcess_WithAMessageNamingIt()
    {
        var settings = Settings();
        settings["Conveyor__Server__Concurrency"] = "0";
        using var worker = WorkerProcess.Start(_directory, settings);

        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.NotEqual(0, worker.ExitCode);
        Assert.Contains("Conveyor:Server:Concurrency must be between 1 and 10000", worker.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private ServiceProvider CreateClientServices()
    {
        var services = new ServiceCollection();
        services.AddConveyor().UseSqlite(o => o.Path = DatabasePath);
        return services.BuildServiceProvider();
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
