namespace Conveyor.Storage.Conformance;

/// <summary>
/// Rate limiters in the store (<see cref="IJobCoordinationStore.TryAcquireRatePermitsAsync"/>): the generic cell rate
/// algorithm, one permit per interval, a burst after a quiet period, refusals that change nothing and say when.
/// </summary>
public abstract partial class CoordinationTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private async Task<RatePermitResult> TakeAsync(string key = "partner", int burst = 1, int permits = 1) =>
        (await Store.TryAcquireRatePermitsAsync([new RatePermitRequest(key, Interval, burst, permits)], Ct))[0];

    [Fact]
    public async Task RatePermits_NoBurst_OnePerIntervalAndTheRefusalSaysWhen()
    {
        Assert.True((await TakeAsync()).Acquired);

        var refused = await TakeAsync();
        Time.Advance(TimeSpan.FromMilliseconds(40));
        var stillRefused = await TakeAsync();
        Time.Advance(TimeSpan.FromMilliseconds(60));
        var granted = await TakeAsync();

        Assert.Equal(new RatePermitResult(false, Interval), refused);
        Assert.Equal(new RatePermitResult(false, TimeSpan.FromMilliseconds(60)), stillRefused);
        Assert.True(granted.Acquired);
    }

    [Fact]
    public async Task RatePermits_Burst_GrantsThatManyAtOnceThenOnePerInterval()
    {
        var results = await Store.TryAcquireRatePermitsAsync([.. Enumerable.Repeat(new RatePermitRequest("partner", Interval, 3), 4)], Ct);

        Assert.Equal([true, true, true, false], results.Select(static r => r.Acquired));
        Assert.Equal(Interval, results[3].RetryAfter);

        Time.Advance(Interval);
        Assert.True((await TakeAsync(burst: 3)).Acquired);
        Assert.False((await TakeAsync(burst: 3)).Acquired);
    }

    [Fact]
    public async Task RatePermits_AfterAQuietPeriod_TheBurstIsBackButNeverMore()
    {
        Assert.True((await TakeAsync(burst: 2)).Acquired);
        Time.Advance(TimeSpan.FromMinutes(5));

        Assert.True((await TakeAsync(burst: 2)).Acquired);
        Assert.True((await TakeAsync(burst: 2)).Acquired);
        Assert.False((await TakeAsync(burst: 2)).Acquired);
    }

    [Fact]
    public async Task RatePermits_SeveralPermits_CountAsThatManyIntervals()
    {
        Assert.True((await TakeAsync(burst: 5, permits: 3)).Acquired);

        var refused = await TakeAsync(burst: 5, permits: 3);

        Assert.Equal(new RatePermitResult(false, Interval), refused);
        Assert.True((await TakeAsync(burst: 5, permits: 2)).Acquired);
    }

    [Fact]
    public async Task RatePermits_KeysAreIndependent()
    {
        Assert.True((await TakeAsync("acme")).Acquired);

        Assert.True((await TakeAsync("globex")).Acquired);
        Assert.False((await TakeAsync("acme")).Acquired);
    }

    [Fact]
    public async Task RatePermits_ARefusalTakesNothing()
    {
        Assert.True((await TakeAsync()).Acquired);
        for (var i = 0; i < 5; i++)
        {
            Assert.False((await TakeAsync()).Acquired);
        }

        Time.Advance(Interval);

        Assert.True((await TakeAsync()).Acquired);
    }

    [Fact]
    public async Task RatePermits_EmptyList_AnswersNothing() =>
        Assert.Empty(await Store.TryAcquireRatePermitsAsync([], Ct));

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(100, 0, 1)]
    [InlineData(100, 2, 3)]
    [InlineData(100, 2, 0)]
    public async Task RatePermits_ARequestThatCouldNeverBeGranted_IsRefusedWithAnArgumentError(int intervalMs, int burst, int permits) =>
        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await Store.TryAcquireRatePermitsAsync([new RatePermitRequest("partner", TimeSpan.FromMilliseconds(intervalMs), burst, permits)], Ct));

    [Fact]
    public async Task RatePermits_ManyCallersAtOnce_GrantExactlyTheBurst()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(async () => await TakeAsync(burst: 5))));

        Assert.Equal(5, results.Count(static r => r.Acquired));
    }

    [Fact]
    public async Task RatePermits_ThePurgeKeepsALimiterThatStillHoldsTime()
    {
        Assert.True((await TakeAsync()).Acquired);

        await Store.PurgeExpiredAsync(100, Ct);

        Assert.False((await TakeAsync()).Acquired);
    }
}
