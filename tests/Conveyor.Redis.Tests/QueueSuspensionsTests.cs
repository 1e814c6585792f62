using Microsoft.Extensions.Logging;

namespace Conveyor.Redis.Tests;

/// <summary>
/// The back-off of a queue whose node failed while others answered: left out for 1 s, doubling to 5 s while the probes
/// of its node fail; one probe once a back-off has passed, the queue left out until it answers; back at once when a
/// probe answers; logged once when it begins and once when it ends.
/// </summary>
public sealed class QueueSuspensionsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly CapturedLogs _logs = new();
    private readonly List<string> _probes = [];
    private readonly List<DateTimeOffset> _probeTimes = [];

    // What the next probes answer: at once, unless a test makes them wait.
    private Func<Task> _answer = static () => Task.CompletedTask;

    [Fact]
    public void AQueueThatNeverFailed_IsNotLeftOut_NorProbed()
    {
        var suspensions = Suspensions();

        Assert.False(suspensions.IsSuspended("default"));
        suspensions.Succeeded("default");
        Assert.False(suspensions.IsSuspended("default"));
        Assert.Empty(_probes);
        Assert.Empty(_logs.Records);
    }

    [Fact]
    public void ACallSentBeforeTheQueueWasSuspended_AnsweringAfter_DoesNotEndTheSuspension()
    {
        // A slow dequeue's call on the queue answered before its node hung; another dequeue then suspended the queue.
        var suspensions = Suspensions();
        var sent = suspensions.Generation;
        suspensions.Failed("hung", new TimeoutException("timed out"));

        suspensions.Succeeded("hung", sent);
        Assert.True(suspensions.IsSuspended("hung"));

        suspensions.Succeeded("hung", suspensions.Generation);
        Assert.False(suspensions.IsSuspended("hung"));
    }

    [Fact]
    public void AFailedQueue_IsLeftOutForOneSecond_ThenProbedOnce_AndLeftOutUntilTheProbeAnswers()
    {
        var suspensions = Suspensions();
        suspensions.Failed("hung", new TimeoutException("timed out"));

        Assert.True(suspensions.IsSuspended("hung"));
        Assert.False(suspensions.IsSuspended("other"));
        _time.Advance(QueueSuspensions.FirstBackoff - TimeSpan.FromMilliseconds(1));
        Assert.True(suspensions.IsSuspended("hung"));
        Assert.Empty(_probes);

        var answer = new TaskCompletionSource();
        _answer = () => answer.Task;
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(suspensions.IsSuspended("hung"));
        Assert.True(suspensions.IsSuspended("hung"));
        Assert.Equal("hung", Assert.Single(_probes));

        answer.SetResult();
        Assert.True(SpinWait.SpinUntil(() => !suspensions.IsSuspended("hung"), TimeSpan.FromSeconds(10)));
        Assert.Single(_probes);
    }

    [Fact]
    public void AQueueWhoseProbesKeepFailing_WaitsTwiceAsLongEachTime_UpToFiveSeconds()
    {
        var suspensions = Suspensions();
        _answer = static () => Task.FromException(new TimeoutException("timed out"));
        var failedAt = _time.GetUtcNow();
        suspensions.Failed("hung", new TimeoutException("timed out"));
        while (_probeTimes.Count < 6)
        {
            Assert.True(suspensions.IsSuspended("hung"));
            _time.Advance(TimeSpan.FromMilliseconds(250));
        }

        Assert.Equal([1, 2, 4, 5, 5, 5], _probeTimes.Select((t, i) => (t - (i == 0 ? failedAt : _probeTimes[i - 1])).TotalSeconds));
    }

    [Fact]
    public void AProbeThatAnswers_EndsTheSuspension_AndTheNextOutageStartsAgainAtOneSecond()
    {
        var suspensions = Suspensions();
        suspensions.Failed("hung", new TimeoutException("timed out"));
        _answer = static () => Task.FromException(new TimeoutException("timed out"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(suspensions.IsSuspended("hung"));
        _answer = static () => Task.CompletedTask;
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(suspensions.IsSuspended("hung"));
        Assert.False(suspensions.IsSuspended("hung"));

        suspensions.Failed("hung", new TimeoutException("timed out"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(suspensions.IsSuspended("hung"));
        Assert.Equal(3, _probes.Count);
    }

    [Fact]
    public void AnOutage_IsLoggedOnceWhenItBegins_AsAWarningWithTheError_AndOnceWhenItEnds()
    {
        var suspensions = Suspensions();

        suspensions.Failed("hung", new TimeoutException("timed out"));
        _answer = static () => Task.FromException(new TimeoutException("timed out again"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(suspensions.IsSuspended("hung"));
        _answer = static () => Task.CompletedTask;
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(suspensions.IsSuspended("hung"));
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

    // A probe that answers at once updates the suspension before the call that started it returns.
    private QueueSuspensions Suspensions() => new(_time, _logs.CreateLogger("test"), queue =>
    {
        _probes.Add(queue);
        _probeTimes.Add(_time.GetUtcNow());
        return _answer();
    });
}
