using Conveyor.Server;

namespace Conveyor.Tests.Server;

public sealed class WeightedQueueSelectorTests
{
    private static WeightedQueueSelector CreateSut(bool strict = false) => new(JobServerOptions.DefaultQueues, strict);

    [Fact]
    public void NextQuotas_OneSlotAtATime_ServesExactlySixThreeOneInEveryWindowOfTen()
    {
        var sut = CreateSut();

        for (var window = 0; window < 50; window++)
        {
            var counts = new Dictionary<string, int>();
            for (var i = 0; i < 10; i++)
            {
                var pick = sut.NextQuotas(1).Single(q => q.Limit == 1).Queue;
                counts[pick] = counts.GetValueOrDefault(pick) + 1;
            }

            Assert.Equal(6, counts[QueueName.Critical]);
            Assert.Equal(3, counts[QueueName.Default]);
            Assert.Equal(1, counts[QueueName.Low]);
        }
    }

    [Fact]
    public void NextQuotas_NeverLeavesALowQueueWaitingMoreThanOneCycle()
    {
        var sut = CreateSut();

        var sinceLow = 0;
        for (var i = 0; i < 1000; i++)
        {
            sinceLow = sut.NextQuotas(1).Single(q => q.Limit == 1).Queue == QueueName.Low ? 0 : sinceLow + 1;
            Assert.True(sinceLow < 10, $"low waited {sinceLow} picks");
        }
    }

    [Fact]
    public void NextQuotas_ABatch_IsSplitByWeight_InPriorityOrder()
    {
        var quotas = CreateSut().NextQuotas(20);

        Assert.Equal([QueueName.Critical, QueueName.Default, QueueName.Low], quotas.Select(q => q.Queue));
        Assert.Equal([12, 6, 2], quotas.Select(q => q.Limit));
    }

    [Fact]
    public void NextQuotas_StrictPriority_GivesEveryQueueTheWholeBatchInPriorityOrder()
    {
        var quotas = CreateSut(strict: true).NextQuotas(7);

        Assert.Equal([QueueName.Critical, QueueName.Default, QueueName.Low], quotas.Select(q => q.Queue));
        Assert.All(quotas, q => Assert.Equal(7, q.Limit));
    }
}
