using Conveyor.Server;

namespace Conveyor.Tests.Server;

public sealed class BackoffTests
{
    [Fact]
    public void Next_HoweverLongTheOutage_WaitsAtMostHalfASecond_WithJitter()
    {
        var backoff = new Backoff();

        var delays = Enumerable.Range(0, 200).Select(_ => backoff.Next()).ToList();

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500)));
        Assert.All(delays.Skip(10), d => Assert.InRange(d, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500)));
        Assert.True(delays.Skip(10).Distinct().Count() > 100, "servers that failed together must not retry in step");
    }

    [Fact]
    public void Next_AfterReset_StartsAgainFromTheShortestDelay()
    {
        var backoff = new Backoff();
        for (var i = 0; i < 20; i++)
        {
            backoff.Next();
        }

        backoff.Reset();

        Assert.InRange(backoff.Next(), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void IsWorthLogging_TheFirstFailureOfAnOutage_ThenAboutEveryTenSeconds()
    {
        var backoff = new Backoff();
        var logged = new List<int>();
        for (var failure = 1; failure <= 100; failure++)
        {
            backoff.Next();
            if (backoff.IsWorthLogging)
            {
                logged.Add(failure);
            }
        }

        Assert.Equal([1, 25, 50, 75, 100], logged);
        backoff.Reset();
        backoff.Next();
        Assert.True(backoff.IsWorthLogging, "a new outage is logged at once");
    }
}
