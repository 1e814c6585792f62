namespace Conveyor.Storage.Conformance;

/// <summary>
/// The two-pass rule of <see cref="DequeueRequest"/>: each queue's quota first, in order; then the slots
/// left over from the same queues in the same order.
/// </summary>
public abstract partial class DequeueTests
{
    private async Task FillAsync(string queue, int count)
    {
        var results = await Store.EnqueueManyAsync(Enumerable.Range(0, count).Select(_ => NewJob(queue: queue)).ToArray(), Ct);
        Assert.All(results, static r => Assert.Equal(EnqueueOutcome.Enqueued, r.Outcome));
    }

    private async Task<Dictionary<string, int>> DequeueWeightedAsync(int limit, int critical = 6, int @default = 3, int low = 1)
    {
        var leased = await Store.DequeueAsync(
            new DequeueRequest
            {
                Queues = [new QueueQuota("critical", critical), new QueueQuota("default", @default), new QueueQuota("low", low)],
                Limit = limit,
                ServerId = ServerId,
                LeaseDuration = Lease,
            },
            Ct);
        Assert.True(leased.Count <= limit, $"{leased.Count} jobs leased with a limit of {limit}.");
        var counts = new Dictionary<string, int> { ["critical"] = 0, ["default"] = 0, ["low"] = 0 };
        foreach (var job in leased)
        {
            counts[job.Queue]++;
        }

        return counts;
    }

    private static void AssertCounts(Dictionary<string, int> counts, int critical, int @default, int low)
    {
        Assert.Equal(critical, counts["critical"]);
        Assert.Equal(@default, counts["default"]);
        Assert.Equal(low, counts["low"]);
    }

    [Fact]
    public async Task Dequeue_QuotasUnderSaturation_TakesExactlyEachQuota()
    {
        await FillAsync("critical", 20);
        await FillAsync("default", 20);
        await FillAsync("low", 20);

        var counts = await DequeueWeightedAsync(limit: 10);

        AssertCounts(counts, 6, 3, 1);
    }

    [Fact]
    public async Task Dequeue_QuotasUnderSaturation_HoldOverSuccessiveDequeues()
    {
        await FillAsync("critical", 40);
        await FillAsync("default", 40);
        await FillAsync("low", 40);

        var total = new Dictionary<string, int> { ["critical"] = 0, ["default"] = 0, ["low"] = 0 };
        for (var round = 0; round < 3; round++)
        {
            foreach (var (queue, count) in await DequeueWeightedAsync(limit: 10))
            {
                total[queue] += count;
            }
        }

        AssertCounts(total, 18, 9, 3);
    }

    [Fact]
    public async Task Dequeue_FirstQueueEmpty_ItsSlotsGoToTheNextQueuesInOrder()
    {
        await FillAsync("default", 20);
        await FillAsync("low", 20);

        var counts = await DequeueWeightedAsync(limit: 10);

        // First pass: default 3, low 1. Second pass: the 6 free slots to default first.
        AssertCounts(counts, 0, 9, 1);
    }

    [Fact]
    public async Task Dequeue_FirstQueuesShort_RemainingSlotsGoToTheLastQueue()
    {
        await FillAsync("default", 4);
        await FillAsync("low", 20);

        var counts = await DequeueWeightedAsync(limit: 10);

        AssertCounts(counts, 0, 4, 6);
    }

    [Fact]
    public async Task Dequeue_FirstQueueBelowItsQuota_SecondPassTopsUpInOrder()
    {
        await FillAsync("critical", 3);
        await FillAsync("default", 20);
        await FillAsync("low", 20);

        var counts = await DequeueWeightedAsync(limit: 10);

        // First pass: 3 + 3 + 1 = 7. Second pass: critical has none left, default takes the 3 free slots.
        AssertCounts(counts, 3, 6, 1);
    }

    [Fact]
    public async Task Dequeue_OnlyLastQueueHasJobs_TakesUpToLimitFromIt()
    {
        await FillAsync("low", 20);

        var counts = await DequeueWeightedAsync(limit: 10);

        AssertCounts(counts, 0, 0, 10);
    }

    [Fact]
    public async Task Dequeue_LimitBelowFirstQuota_TakesOnlyLimitFromTheFirstQueue()
    {
        await FillAsync("critical", 20);
        await FillAsync("default", 20);
        await FillAsync("low", 20);

        var counts = await DequeueWeightedAsync(limit: 5);

        AssertCounts(counts, 5, 0, 0);
    }

    [Fact]
    public async Task Dequeue_LimitBelowSumOfQuotas_FirstPassStopsAtLimit()
    {
        await FillAsync("critical", 20);
        await FillAsync("default", 20);
        await FillAsync("low", 20);

        var counts = await DequeueWeightedAsync(limit: 8);

        AssertCounts(counts, 6, 2, 0);
    }

    [Fact]
    public async Task Dequeue_LimitAboveSumOfQuotas_SecondPassFillsFromTheFirstQueue()
    {
        await FillAsync("critical", 20);
        await FillAsync("default", 20);
        await FillAsync("low", 20);

        var counts = await DequeueWeightedAsync(limit: 20);

        AssertCounts(counts, 16, 3, 1);
    }

    [Fact]
    public async Task Dequeue_FewerJobsThanLimit_TakesThemAll()
    {
        await FillAsync("critical", 2);
        await FillAsync("default", 1);

        var counts = await DequeueWeightedAsync(limit: 10);

        AssertCounts(counts, 2, 1, 0);
    }

    [Fact]
    public async Task Dequeue_ZeroQuota_QueueServedOnlyFromLeftoverSlots()
    {
        await FillAsync("critical", 20);
        await FillAsync("default", 20);

        var saturated = await DequeueWeightedAsync(limit: 5, critical: 0, @default: 5, low: 0);
        AssertCounts(saturated, 0, 5, 0);

        await Store.PauseQueueAsync("default", Ct);
        var leftover = await DequeueWeightedAsync(limit: 5, critical: 0, @default: 5, low: 0);
        AssertCounts(leftover, 5, 0, 0);
    }

    [Fact]
    public async Task Dequeue_PausedQueueInQuotas_ItsSlotsGoToTheOthers()
    {
        await FillAsync("critical", 20);
        await FillAsync("default", 20);
        await FillAsync("low", 20);
        await Store.PauseQueueAsync("critical", Ct);

        var counts = await DequeueWeightedAsync(limit: 10);

        AssertCounts(counts, 0, 9, 1);
    }

    [Fact]
    public async Task Dequeue_WithQuotas_EachQueueStaysFifo()
    {
        var critical = await EnqueueManyAsync(8, "critical");
        var @default = await EnqueueManyAsync(8, "default");

        var leased = await Store.DequeueAsync(
            new DequeueRequest
            {
                Queues = [new QueueQuota("critical", 2), new QueueQuota("default", 2)],
                Limit = 6,
                ServerId = ServerId,
                LeaseDuration = Lease,
            },
            Ct);

        Assert.Equal(critical.Take(4), leased.Where(static j => j.Queue == "critical").Select(static j => j.Id));
        Assert.Equal(@default.Take(2), leased.Where(static j => j.Queue == "default").Select(static j => j.Id));
    }
}
