using Microsoft.Extensions.Logging;

namespace Conveyor.Redis.Tests;

/// <summary>
/// The back-off of a queue whose node failed while others answered: left out for 1 s, doubling to 8 s while it keeps
/// failing, one try once it has passed, back at once on its first success, and logged once when it begins and once when
/// it ends.
/// </summary>
public sealed class QueueSuspensionsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly CapturedLogs _logs = new();

    [Fact]
    public void AQueueThatNeverFailed_IsAlwaysAsked()
    {
        var suspensions = new QueueSuspensions(_time, _logs.CreateLogger("test"));

        Assert.True(suspensions.TryAsk("default"));
        Assert.True(suspensions.TryAsk("default"));
        suspensions.Succeeded("default");
        Assert.Empty(_logs.Records);
    }

    [Fact]
    public void AFailedQueue_IsLeftOutForOneSecond_ThenOneDequeueTriesIt_TheOthersStillLeaveItOut()
    {
        var suspensions = new QueueSuspensions(_time, _logs.CreateLogger("test"));
        suspensions.Failed("hung", new TimeoutException("timed out"));

        Assert.False(suspensions.TryAsk("hung"));
        Assert.True(suspensions.TryAsk("other"));
        _time.Advance(QueueSuspensions.FirstBackoff - TimeSpan.FromMilliseconds(1));
        Assert.False(suspensions.TryAsk("hung"));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(suspensions.TryAsk("hung"));
        Assert.False(suspensions.TryAsk("hung"));
    }

    [Fact]
    public void AQueueThatKeepsFailing_WaitsTwiceAsLongEachTime_UpToEightSeconds()
    {
        var suspensions = new QueueSuspensions(_time, _logs.CreateLogger("test"));
        var waits = new List<TimeSpan>();
        suspensions.Failed("hung", new TimeoutException("timed out"));
        for (var i = 0; i < 6; i++)
        {
            var wait = TimeSpan.Zero;
            while (!suspensions.TryAsk("hung"))
            {
                _time.Advance(TimeSpan.FromMilliseconds(250));
                wait += TimeSpan.FromMilliseconds(250);
            }

            waits.Add(wait);
            suspensions.Failed("hung", new TimeoutException("timed out"));
        }

        Assert.Equal([1, 2, 4, 8, 8, 8], waits.Select(static w => w.TotalSeconds));
        Assert.Equal(QueueSuspensions.MaxBackoff, TimeSpan.FromSeconds(8));
    }

    [Fact]
    public void AFirstSuccess_EndsTheSuspension_AndTheNextOutageStartsAgainAtOneSecond()
    {
        var suspensions = new QueueSuspensions(_time, _logs.CreateLogger("test"));
        suspensions.Failed("hung", new TimeoutException("timed out"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(suspensions.TryAsk("hung"));
        suspensions.Failed("hung", new TimeoutException("timed out"));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(suspensions.TryAsk("hung"));

        suspensions.Succeeded("hung");

        Assert.True(suspensions.TryAsk("hung"));
        Assert.True(suspensions.TryAsk("hung"));
        suspensions.Failed("hung", new TimeoutException("timed out"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(suspensions.TryAsk("hung"));
    }

    [Fact]
    public void AnOutage_IsLoggedOnceWhenItBegins_AsAWarningWithTheError_AndOnceWhenItEnds()
    {
        var suspensions = new QueueSuspensions(_time, _logs.CreateLogger("test"));

        suspensions.Failed("hung", new TimeoutException("timed out"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(suspensions.TryAsk("hung"));
        suspensions.Failed("hung", new TimeoutException("timed out again"));
        _time.Advance(TimeSpan.FromSeconds(2));
        suspensions.Succeeded("hung");
        suspensions.Succeeded("hung");

        Assert.Collection(
            _logs.Records,
            warning =>
            {
                Assert.Equal((911, LogLevel.Warning), (warning.EventId, warning.Level));
                Assert.Contains("Queue hung", warning.Message, StringComparison.Ordinal);
                Assert.Equal("timed out", Assert.IsType<TimeoutException>(warning.Error).Message);
            },
            resumed =>
            {
                Assert.Equal((912, LogLevel.Information), (resumed.EventId, resumed.Level));
                Assert.Contains("Queue hung", resumed.Message, StringComparison.Ordinal);
                Assert.Contains("3000 ms", resumed.Message, StringComparison.Ordinal);
            });
    }
}
