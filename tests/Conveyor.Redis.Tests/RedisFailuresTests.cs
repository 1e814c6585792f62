namespace Conveyor.Redis.Tests;

/// <summary>Which failures make the store unavailable for now (the server backs off and retries) and which are errors.</summary>
public sealed class RedisFailuresTests
{
    [Fact]
    public void IsTransient_PipeCompletedUnderARead_IsAnOutage()
    {
        var exception = new InvalidOperationException("Reading is not allowed after reader was completed.") { Source = "System.IO.Pipelines" };

        Assert.True(RedisFailures.IsTransient(exception));
    }

    [Fact]
    public void IsTransient_InvalidOperationOfTheStoreItself_IsAnError()
    {
        var exception = new InvalidOperationException("The job record is corrupt.") { Source = "Conveyor.Redis" };

        Assert.False(RedisFailures.IsTransient(exception));
    }

    [Fact]
    public void IsTransient_ACallTheClientGaveUpWithTheConnection_IsAnOutage() =>
        Assert.True(RedisFailures.IsTransient(new TaskCanceledException()));

    [Fact]
    public void IsTransient_TheCallersOwnCancellation_IsNotAnOutage()
    {
        using var stopping = new CancellationTokenSource();
        stopping.Cancel();

        Assert.False(RedisFailures.IsTransient(new OperationCanceledException(stopping.Token)));
    }
}
