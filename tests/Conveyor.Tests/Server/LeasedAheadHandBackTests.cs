using System.Threading.Channels;
using Conveyor.Server;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// Which jobs waiting in the buffer are handed back. Nothing reads the buffer here: a job waits as it does for a worker
/// that was woken for it but has no thread yet on a loaded machine (a CI run saw a job wait more than a short handler so,
/// be handed back after its rate permit was taken, and wait an hour for the limit's next turn).
/// </summary>
public sealed class LeasedAheadHandBackTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly Channel<RunningJob> _buffer = Channel.CreateUnbounded<RunningJob>();
    private readonly HeldJobs _held = new();
    private readonly HandlerPace _pace;
    private readonly List<RunningJob> _handedBack = [];
    private readonly LeasedAheadHandBack _handBack;

    public LeasedAheadHandBackTests()
    {
        _pace = new HandlerPace(2, _time);
        _handBack = new LeasedAheadHandBack(_buffer.Writer, _held, _pace, _handedBack.Add, _time);
    }

    [Fact]
    public void AJobAnIdleWorkerIsAboutToRead_IsNotHandedBack_HoweverLongItWaits()
    {
        _pace.Began(0, _time.GetTimestamp());
        var jobs = Write(2);
        _time.Advance(LeasedAheadHandBack.MaxWait * 10);

        var nextLook = _handBack.HandBackOverdue();

        // Worker 1 is idle: the older job is its next; the newer one waits behind a busy worker.
        Assert.Equal([jobs[1]], _handedBack);
        Assert.True(jobs[0].WaitsInBuffer);
        Assert.Equal(LeasedAheadHandBack.MaxWait, nextLook);

        // The idle worker took another job meanwhile: this one now waits behind busy workers.
        _pace.Began(1, _time.GetTimestamp());
        _handBack.HandBackOverdue();
        Assert.Equal([jobs[1], jobs[0]], _handedBack);
    }

    [Fact]
    public void AJobLeasedAheadOfBusyWorkers_IsHandedBack_UnlessItHoldsARatePermit()
    {
        _pace.Began(0, _time.GetTimestamp());
        _pace.Began(1, _time.GetTimestamp());
        var jobs = Write(3);
        jobs[0].HoldsRatePermit = true;
        _time.Advance(LeasedAheadHandBack.MaxWait - TimeSpan.FromMilliseconds(2));

        var nextLook = _handBack.HandBackOverdue();

        Assert.Equal([jobs[1]], _handedBack);
        Assert.Equal(TimeSpan.FromMilliseconds(1), nextLook);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(_handBack.HandBackOverdue());
        Assert.Equal([jobs[1], jobs[2]], _handedBack);
        Assert.True(jobs[0].WaitsInBuffer);
    }

    private RunningJob[] Write(int count)
    {
        var runs = LeasedJobs.Running(_time, count, "test:run", _ => TenantId.Default);
        foreach (var run in runs)
        {
            _held.Add(run);
            Assert.True(_handBack.TryWrite(run));
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        return runs;
    }
}
