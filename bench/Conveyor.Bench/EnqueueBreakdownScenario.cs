using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>
/// Where the time of one awaited single enqueue goes on Redis: a bare PING round trip, a bare EVALSHA of a trivial
/// script, two pipelined EVALSHAs (what the store sends per job), and IJobClient.EnqueueAsync itself; --n calls each.
/// </summary>
internal static class EnqueueBreakdownScenario
{
    public static async Task RunAsync(BenchSettings settings)
    {
        if (settings.Store != "redis")
        {
            throw new ArgumentException("--scenario enqueue-breakdown is for --store redis");
        }

        await using var redis = await ConnectionMultiplexer.ConnectAsync(settings.Redis);
        var db = redis.GetDatabase();
        var script = LuaScript.Prepare("return 1");
        var loaded = await script.LoadAsync(redis.GetServer(redis.GetEndPoints()[0]));
        await MeasureAsync("PING", settings.N, () => db.PingAsync());
        await MeasureAsync("EVALSHA return 1", settings.N, () => db.ScriptEvaluateAsync(loaded.Hash, []));
        await MeasureAsync("2 x EVALSHA, batched", settings.N, () =>
        {
            var batch = db.CreateBatch();
            var a = batch.ScriptEvaluateAsync(loaded.Hash, []);
            var b = batch.ScriptEvaluateAsync(loaded.Hash, []);
            batch.Execute();
            return Task.WhenAll(a, b);
        });

        var target = await NewTargetAsync(settings, "breakdown");
        using (var host = Build(settings, target, withServer: false, concurrency: 1))
        {
            await InitializeAsync(host);
            var client = host.Services.GetRequiredService<IJobClient>();
            await MeasureAsync("IJobClient.EnqueueAsync", settings.N, () => client.EnqueueAsync(new BenchJob(0)));
        }

        await DropAsync(settings, target);
    }

    private static async Task MeasureAsync(string name, int n, Func<Task> call)
    {
        for (var i = 0; i < Math.Min(n, 500); i++)
        {
            await call();
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            await call();
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        Report($"{name,-26} {F(n / seconds),8} calls/s  {F(seconds / n * 1e6, "N0"),6} µs/call  client CPU {F(cpuSeconds / n * 1e6, "N0")} µs/call");
    }
}
