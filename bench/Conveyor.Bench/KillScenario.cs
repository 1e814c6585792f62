using System.Diagnostics;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>A job whose handler announces its start and then runs until the process dies.</summary>
internal sealed record KillJob(int Round) : IJobPayload
{
    public static string JobType => "bench:kill";
}

/// <summary>Prints "STARTED" on stdout (the victim) or completes a signal (the survivor).</summary>
internal sealed class KillHandler(KillSignal signal) : IJobHandler<KillJob>
{
    public async Task HandleAsync(KillJob payload, JobContext context, CancellationToken cancellationToken)
    {
        if (signal.IsVictim)
        {
            Console.WriteLine("STARTED");
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        signal.Started.TrySetResult(Stopwatch.GetTimestamp());
    }
}

internal sealed class KillSignal(bool isVictim)
{
    public bool IsVictim { get; } = isVictim;

    public TaskCompletionSource<long> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Time from SIGKILL of the worker process running a job to that job running again in another worker, at the
/// server's default lease and recovery settings. The victim is this program in another process (--role victim).
/// With --backlog N, N no-op jobs (each --io-ms long) are queued behind the job before the kill.
/// </summary>
internal static class KillScenario
{
    public static async Task RunAsync(BenchSettings settings)
    {
        if (settings.Store == "memory")
        {
            throw new ArgumentException("--scenario kill needs a store two processes share (sqlite, redis, postgres)");
        }

        var target = await NewTargetAsync(settings, "kill");
        for (var round = 1; round <= Math.Max(1, settings.N); round++)
        {
            using var host = Build(settings, target, withServer: false, concurrency: 1, Extra(isVictim: false));
            await InitializeAsync(host);
            using var victim = StartVictim(settings, target);
            var client = host.Services.GetRequiredService<IJobClient>();
            await client.EnqueueAsync(new KillJob(round));
            var line = await victim.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (line != "STARTED")
            {
                throw new InvalidOperationException($"victim said '{line}'");
            }

            // A backlog behind the running job: a recovered job that went to the back of the queue would wait for it.
            if (settings.Backlog > 0)
            {
                await PrefillAsync(client, settings.Backlog, settings.Store == "redis" ? 1 : 4);
            }

            using var survivor = Build(settings, target, withServer: true, concurrency: 10, Extra(isVictim: false));
            await survivor.StartAsync();
            await Task.Delay(500);
            var killedAt = Stopwatch.GetTimestamp();
            victim.Kill();
            var startedAt = await survivor.Services.GetRequiredService<KillSignal>().Started.Task.WaitAsync(TimeSpan.FromSeconds(120));
            var backlog = settings.Backlog > 0
                ? $", {(await host.Services.GetRequiredService<IJobStore>().GetQueueStatsAsync(CancellationToken.None)).Sum(static q => q.Pending)} jobs still queued"
                : "";
            Report($"kill round {round}: job running again in the other worker {F(Stopwatch.GetElapsedTime(killedAt, startedAt).TotalSeconds, "F2")} s after SIGKILL{backlog}");
            await survivor.StopAsync();
        }

        await DropAsync(settings, target);
    }

    public static async Task RunVictimAsync(BenchSettings settings)
    {
        var target = new StoreTarget(settings.Store, settings.SqlitePath, Environment.GetEnvironmentVariable("BENCH_REDIS_PREFIX")!,
            Environment.GetEnvironmentVariable("BENCH_PG_SCHEMA")!);
        using var host = Build(settings, target, withServer: true, concurrency: 10, Extra(isVictim: true));
        await host.RunAsync();
    }

    private static Action<IConveyorBuilder> Extra(bool isVictim) => conveyor =>
    {
        conveyor.Services.AddSingleton(new KillSignal(isVictim));
        conveyor.AddHandler<KillHandler>();
    };

    private static Process StartVictim(BenchSettings settings, StoreTarget target)
    {
        var self = Environment.GetCommandLineArgs()[0];
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (self.EndsWith(".dll", StringComparison.Ordinal))
        {
            info.ArgumentList.Add(self);
        }

        foreach (var arg in new[] { "--role", "victim", "--io-ms", settings.IoMs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--store", settings.Store, "--redis", settings.Redis, "--postgres", settings.Postgres, "--sqlite-path", target.SqlitePath })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["BENCH_REDIS_PREFIX"] = target.RedisPrefix;
        info.Environment["BENCH_PG_SCHEMA"] = target.PostgresSchema;
        return Process.Start(info)!;
    }
}
