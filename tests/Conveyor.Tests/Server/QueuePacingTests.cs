using Conveyor.Limits;
using Conveyor.Storage;

namespace Conveyor.Tests.Server;

/// <summary>How a server paces a queue whose queue-wide rate limit is being reached (<see cref="QueuePacing"/>).</summary>
public sealed class QueuePacingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private static readonly QueueQuota[] Quotas = [new("partner", 16), new("default", 4)];

    [Fact]
    public void NoQueuePaced_LeavesTheQuotasAsTheyAre()
    {
        Assert.Null(new QueuePacing().Split(Quotas, T0));
    }

    [Fact]
    public void ARefusedQueue_IsNotLeasedBeforeTheStoresTurn_ThenItsBurstAtATime_TheOtherQueuesAsUsual()
    {
        var pacing = new QueuePacing();
        pacing.Refused("partner", T0 + Interval, Interval, burst: 2, T0);

        var (open, paced) = pacing.Split(Quotas, T0 + TimeSpan.FromMilliseconds(50))!.Value;
        Assert.Equal([new QueueQuota("default", 4)], open);
        Assert.Empty(paced);
        Assert.Equal(T0 + Interval, pacing.NextTurn(T0 + TimeSpan.FromMilliseconds(50)));

        (open, paced) = pacing.Split(Quotas, T0 + Interval)!.Value;
        Assert.Equal([new QueueQuota("default", 4)], open);
        Assert.Equal([new QueueQuota("partner", 2)], paced);
    }

    [Fact]
    public void AFullShareLeased_MovesTheNextTurnByItsPermits_AndKeepsTheQueuePaced()
    {
        var pacing = new QueuePacing();
        pacing.Refused("partner", T0 + Interval, Interval, burst: 1, T0);
        var now = T0 + Interval;
        for (var turn = 0; turn < 30; turn++, now += Interval)
        {
            var (_, paced) = pacing.Split(Quotas, now)!.Value;
            Assert.Equal([new QueueQuota("partner", 1)], paced);
            pacing.Leased("partner", 1, ranShort: false, now);
            Assert.Empty(pacing.Split(Quotas, now)!.Value.Paced);
            Assert.Equal(now + Interval, pacing.NextTurn(now));
        }
    }

    [Fact]
    public void AQueueThatRunsShortAtItsTurn_IsLeasedAsUsualAgain()
    {
        var pacing = new QueuePacing();
        pacing.Refused("partner", T0 + Interval, Interval, burst: 4, T0);
        pacing.Leased("partner", 1, ranShort: true, T0 + Interval);

        Assert.Null(pacing.Split(Quotas, T0 + Interval));
        Assert.Null(pacing.NextTurn(T0 + Interval));
    }

    [Fact]
    public void APacedQueueNotLeasedForPacedForAfterItsTurn_IsLeasedAsUsualAgain()
    {
        var pacing = new QueuePacing();
        pacing.Refused("partner", T0 + Interval, Interval, burst: 1, T0);
        var end = T0 + Interval + QueuePacing.PacedFor;

        Assert.DoesNotContain(pacing.Split(Quotas, end - TimeSpan.FromTicks(1))!.Value.Open, static q => q.Queue == "partner");
        var (open, paced) = pacing.Split(Quotas, end)!.Value;
        Assert.Equal(Quotas, open);
        Assert.Empty(paced);
        Assert.Null(pacing.Split(Quotas, end));
    }

    [Fact]
    public void ATurnFurtherAwayThanPacedFor_HoldsTheQueueUntilThen()
    {
        var pacing = new QueuePacing();
        var minute = TimeSpan.FromMinutes(1);
        pacing.Refused("partner", T0 + minute, minute, burst: 1, T0);

        var (open, paced) = pacing.Split(Quotas, T0 + TimeSpan.FromSeconds(59))!.Value;
        Assert.DoesNotContain(open, static q => q.Queue == "partner");
        Assert.Empty(paced);
        Assert.Equal([new QueueQuota("partner", 1)], pacing.Split(Quotas, T0 + minute)!.Value.Paced);
    }

    [Fact]
    public void AShareOnlyPartlyLeasedForWantOfSlots_KeepsTheQueuePaced()
    {
        var pacing = new QueuePacing();
        pacing.Refused("partner", T0 + Interval, Interval, burst: 5, T0);
        pacing.Leased("partner", 2, ranShort: false, T0 + Interval);

        Assert.Equal(T0 + (Interval * 3), pacing.NextTurn(T0 + Interval));
        Assert.Equal([new QueueQuota("partner", 5)], pacing.Split(Quotas, T0 + (Interval * 3))!.Value.Paced);
    }

    [Fact]
    public void ATurnAlreadyCome_IsTheNextTurn_SoTheFetcherDoesNotWait()
    {
        var pacing = new QueuePacing();
        pacing.Refused("partner", T0 + Interval, Interval, burst: 1, T0);

        Assert.Equal(T0 + Interval, pacing.NextTurn(T0 + (Interval * 2)));
    }

    [Fact]
    public void TwoLimitsOnAQueue_PaceItByTheSmallerBurstAndTheLongerInterval()
    {
        var pacing = new QueuePacing();
        pacing.Refused("partner", T0 + Interval, Interval, burst: 5, T0);
        pacing.Refused("partner", T0 + Interval, Interval * 3, burst: 2, T0);

        var (_, paced) = pacing.Split(Quotas, T0 + Interval)!.Value;
        Assert.Equal([new QueueQuota("partner", 2)], paced);
        pacing.Leased("partner", 2, ranShort: false, T0 + Interval);
        Assert.Equal(T0 + Interval + (Interval * 6), pacing.NextTurn(T0 + Interval));
    }
}
