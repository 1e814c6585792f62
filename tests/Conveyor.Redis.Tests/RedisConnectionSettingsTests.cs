namespace Conveyor.Redis.Tests;

/// <summary>How a connection the store makes itself comes back after Redis was away (no Redis needed).</summary>
public sealed class RedisConnectionSettingsTests
{
    [Fact]
    public void Create_ReconnectAttempts_AreDueWithinHalfASecondOfTheLast_HoweverManyFailedBefore()
    {
        var options = RedisConnectionSettings.Create("127.0.0.1:6379");

        for (var failedAttempts = 0; failedAttempts < 1000; failedAttempts += 7)
        {
            Assert.True(options.ReconnectRetryPolicy.ShouldRetry(failedAttempts, 500), $"after {failedAttempts} failed attempts");
        }
    }

    [Fact]
    public void Create_ReconnectAttempts_AreNeverSoonerThanATenthOfASecond_AndSpreadOutOnceTheOutageLasts()
    {
        var policy = RedisConnectionSettings.Create("127.0.0.1:6379").ReconnectRetryPolicy;

        Assert.All(Enumerable.Range(0, 1000), n => Assert.False(policy.ShouldRetry(n, 99)));

        // After a long outage the wait is drawn between 100 and 500 ms: at 300 ms some processes retry and some do not.
        var dueAt300 = Enumerable.Range(0, 1000).Count(_ => policy.ShouldRetry(100, 300));
        Assert.InRange(dueAt300, 100, 900);
    }

    /// <summary>An outside run: '127.0.0.1:notaport,,=' had a server try to reach '=:6379' until its start timeout.</summary>
    [Theory]
    [InlineData("127.0.0.1:notaport,,=")]
    [InlineData("redis host:6379")]
    public void Create_AServerThatIsNotAHostOrAnAddress_IsRefusedNamingIt(string configuration)
    {
        var error = Assert.Throws<ArgumentException>(() => RedisConnectionSettings.Create(configuration));

        Assert.StartsWith("Conveyor:Redis:Configuration names '", error.Message, StringComparison.Ordinal);
        Assert.Contains("not a host name or an address", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:6379")]
    [InlineData("localhost:6379,password=secret,abortConnect=false")]
    [InlineData("redis-0.redis.svc.cluster.local:6379,redis-1.redis.svc.cluster.local")]
    [InlineData("[::1]:6379")]
    public void Create_ServersAsHostsOrAddresses_AreTaken(string configuration) =>
        Assert.NotEmpty(RedisConnectionSettings.Create(configuration).EndPoints);

    [Fact]
    public void Create_ChecksTheConnectionOftenEnough_ForAttemptsToHappenWhenDue()
    {
        var options = RedisConnectionSettings.Create("127.0.0.1:6379");

        // The multiplexer tries to reconnect only at a heartbeat.
        Assert.True(options.HeartbeatInterval <= TimeSpan.FromMilliseconds(100), options.HeartbeatInterval.ToString());
        Assert.False(options.AbortOnConnectFail);
        Assert.True(options.BacklogPolicy.QueueWhileDisconnected, "commands issued while reconnecting wait for the connection");
    }

    [Fact]
    public void Create_ReadsTheServersLayoutAgainEverySecond_SoAClusterFailoverOfAHungPrimaryIsSeenSoon()
    {
        Assert.Equal(1, RedisConnectionSettings.Create("127.0.0.1:6379").ConfigCheckSeconds);
    }

    [Fact]
    public void Create_KeepsWhatTheConfigurationStringSays()
    {
        var options = RedisConnectionSettings.Create("redis-1:6380,abortConnect=true,connectTimeout=1234,keepAlive=7,configCheckSeconds=30");

        Assert.Equal(30, options.ConfigCheckSeconds);
        Assert.True(options.AbortOnConnectFail);
        Assert.Equal(1234, options.ConnectTimeout);
        Assert.Equal(7, options.KeepAlive);
        Assert.EndsWith("redis-1:6380", Assert.Single(options.EndPoints).ToString(), StringComparison.Ordinal);
    }
}
