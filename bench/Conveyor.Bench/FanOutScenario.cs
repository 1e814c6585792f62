using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>
/// Publishes of one event to 5 subscribers (on the queues default, default, low, critical and low), each publish one
/// all-or-none store operation of 5 jobs: --n awaited publishes from one caller, then --n more from 16 concurrent
/// callers. Reports publishes/s and subscriber jobs/s.
/// </summary>
internal static class FanOutScenario
{
    public static async Task RunAsync(BenchSettings settings)
    {
        var target = await NewTargetAsync(settings, "fanout");
        using (var host = Build(settings, target, withServer: false, concurrency: 1, extra: static c => c
            .AddSubscriber<BenchEvent, First>(queue: "default")
            .AddSubscriber<BenchEvent, Second>(queue: "default")
            .AddSubscriber<BenchEvent, Third>(queue: "low")
            .AddSubscriber<BenchEvent, Fourth>(queue: "critical")
            .AddSubscriber<BenchEvent, Fifth>(queue: "low")))
        {
            await InitializeAsync(host);
            var events = host.Services.GetRequiredService<IEventPublisher>();
            for (var i = 0; i < Math.Min(settings.N, 200); i++)
            {
                await events.PublishAsync(new BenchEvent(i));
            }

            await MeasureAsync("publish, 1 caller", settings.N, 1, events);
            await MeasureAsync("publish, 16 callers", settings.N, 16, events);
        }

        await DropAsync(settings, target);
    }

    private static async Task MeasureAsync(string name, int n, int callers, IEventPublisher events)
    {
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < n)
            {
                await events.PublishAsync(new BenchEvent(next));
            }
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        Report($"{name,-22} {F(n / seconds),8} publishes/s  {F(n * 5 / seconds),8} subscriber jobs/s  {F(seconds / n * 1e6 * callers, "N0"),6} µs/publish");
    }

    internal sealed record BenchEvent(long N) : IEventPayload
    {
        public static string EventType => "bench:happened";
    }

    internal sealed class First : Subscriber;

    internal sealed class Second : Subscriber;

    internal sealed class Third : Subscriber;

    internal sealed class Fourth : Subscriber;

    internal sealed class Fifth : Subscriber;

    internal abstract class Subscriber : IEventSubscriber<BenchEvent>
    {
        public Task HandleAsync(BenchEvent @event, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
