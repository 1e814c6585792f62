using static Conveyor.Bench.BenchHost;

namespace Conveyor.Bench;

/// <summary>Drain rate with 10k / 100k / 1M jobs waiting: the first --n completions of each (all of them when fewer).</summary>
internal static class DrainScaleScenario
{
    public static async Task RunAsync(BenchSettings settings)
    {
        Report($"drain c={settings.Concurrency}, rate over the first {settings.N} completions, waiting: {string.Join(", ", settings.Sizes)}");
        foreach (var size in settings.Sizes)
        {
            await ConcurrencyScenario.DrainOnceAsync(settings, settings.Concurrency, size, maxSeconds: 600, measure: settings.N);
        }
    }
}
