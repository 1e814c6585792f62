using Conveyor.Server;
using Conveyor.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

public sealed class RunningJobLimitTests
{
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    [Fact]
    public void ATimeoutLongerThanATimerReaches_StopsTheHandlerWhenItIsReached_NotAtTheTimersReach()
    {
        var time = new FakeTimeProvider();
        var run = new RunningJob(Leased(timeout: TimeSpan.FromDays(120), deadline: null));
        run.ArmLimits(time);

        // Step by step: a timer set again in its callback counts from when the callback ran.
        time.Advance(LongestTimer);
        Assert.False(run.Token.IsCancellationRequested, "stopped at the first step's end, long before its timeout");
        time.Advance(LongestTimer);
        Assert.False(run.Token.IsCancellationRequested, "stopped at the second step's end");
        time.Advance(TimeSpan.FromDays(120) - (2 * LongestTimer) - TimeSpan.FromSeconds(1));
        Assert.False(run.Token.IsCancellationRequested, "stopped a second before its timeout");

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(run.Token.IsCancellationRequested);
        Assert.Equal(StopReason.Timeout, run.Reason);
    }

    [Fact]
    public void ADeadlineAtTheEndOfTheCalendar_IsArmedWithoutError_AndNotReachedMeanwhile()
    {
        var time = new FakeTimeProvider();
        var run = new RunningJob(Leased(timeout: null, deadline: DateTimeOffset.MaxValue));
        run.ArmLimits(time);

        time.Advance(TimeSpan.FromDays(400));
        Assert.False(run.Token.IsCancellationRequested);
    }

    [Fact]
    public void ALimitDisarmedAfterAStep_StaysDisarmed()
    {
        var time = new FakeTimeProvider();
        var run = new RunningJob(Leased(timeout: TimeSpan.FromDays(60), deadline: null));
        run.ArmLimits(time);
        time.Advance(LongestTimer);
        run.DisarmLimits();

        time.Advance(TimeSpan.FromDays(30));
        Assert.False(run.Token.IsCancellationRequested);
    }

    [Fact]
    public void ALimitDisarmedJustBeforeAStepEnds_NeverFires()
    {
        // The job ends a tick before the first step's timer would fire and set itself again.
        var time = new FakeTimeProvider();
        var run = new RunningJob(Leased(timeout: TimeSpan.FromDays(60), deadline: null));
        run.ArmLimits(time);
        time.Advance(LongestTimer - TimeSpan.FromTicks(1));
        run.DisarmLimits();
        time.Advance(TimeSpan.FromDays(30));

        Assert.False(run.Token.IsCancellationRequested);
    }

    [Fact]
    public void ALongLimitOnTheSystemClock_IsArmed()
    {
        var run = new RunningJob(Leased(timeout: TimeSpan.FromDays(3650), deadline: DateTimeOffset.UtcNow.AddDays(60)));
        run.ArmLimits(TimeProvider.System);
        run.DisarmLimits();

        Assert.False(run.Token.IsCancellationRequested);
    }

    private static LeasedJob Leased(TimeSpan? timeout, DateTimeOffset? deadline) => new()
    {
        Id = JobId.New(),
        Type = "test:run",
        Queue = QueueName.Default,
        Tenant = TenantId.Default,
        Payload = "{}"u8.ToArray(),
        Attempt = 1,
        MaxRetry = 0,
        LeaseToken = 1,
        LeaseExpiresAt = DateTimeOffset.UnixEpoch,
        CreatedAt = DateTimeOffset.UnixEpoch,
        EnqueuedAt = DateTimeOffset.UnixEpoch,
        Timeout = timeout,
        Deadline = deadline,
    };
}
