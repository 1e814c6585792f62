using Conveyor.Tests.TestSupport;

namespace Conveyor.Tests.Server;

public sealed class WeightedPriorityTests
{
    [Fact]
    public async Task SaturatedQueues_AreServedInTheRatioOfTheirWeights()
    {
        await using var harness = await ServerHarness.StartAsync(o => o.Concurrency = 1, start: false);
        for (var i = 0; i < 30; i++)
        {
            await harness.Client.EnqueueCriticalAsync(new EchoJob("c"));
            await harness.Client.EnqueueDefaultAsync(new EchoJob("d"));
            await harness.Client.EnqueueLowAsync(new EchoJob("l"));
        }

        await harness.StartHostAsync();
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Count >= 40);

        var firstForty = harness.Recorder.Started.Take(40).GroupBy(s => s.Queue).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(24, firstForty[QueueName.Critical]);
        Assert.Equal(12, firstForty[QueueName.Default]);
        Assert.Equal(4, firstForty[QueueName.Low]);
    }

    [Fact]
    public async Task StrictPriority_RunsLowerQueuesOnlyWhenHigherOnesAreEmpty()
    {
        await using var harness = await ServerHarness.StartAsync(o => { o.Concurrency = 1; o.StrictPriority = true; }, start: false);
        for (var i = 0; i < 5; i++)
        {
            await harness.Client.EnqueueLowAsync(new EchoJob("l"));
            await harness.Client.EnqueueCriticalAsync(new EchoJob("c"));
        }

        await harness.StartHostAsync();
        await Eventually.HoldsAsync(() => harness.Recorder.Started.Count >= 10);

        Assert.Equal(
            [.. Enumerable.Repeat(QueueName.Critical, 5), .. Enumerable.Repeat(QueueName.Low, 5)],
            harness.Recorder.Started.Select(s => s.Queue).ToArray());
    }
}
