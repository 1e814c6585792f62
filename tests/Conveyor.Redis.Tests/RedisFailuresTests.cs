using StackExchange.Redis;

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

    // What a Cluster answers during a failover (kill -9 of a primary, CLUSTER FAILOVER on its replica) or a resharding:
    // every one is an outage that passes, which the API answers 503 with Retry-After and the server logs as an outage.
    [Theory]
    [InlineData("EXECABORT Transaction discarded because of previous errors.")]
    [InlineData("CLUSTERDOWN The cluster is down")]
    [InlineData("CLUSTERDOWN Hash slot not served")]
    [InlineData("MOVED 3999 127.0.0.1:7132")]
    [InlineData("ASK 3999 127.0.0.1:7132")]
    [InlineData("READONLY You can't write against a read only replica.")]
    [InlineData("TRYAGAIN Multiple keys request during rehashing of slot")]
    [InlineData("LOADING Redis is loading the dataset in memory")]
    [InlineData("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")]
    public void IsTransient_WhatAClusterAnswersDuringAFailover_IsAnOutage(string error)
    {
        var exception = new RedisServerException(error);

        Assert.True(RedisFailures.IsTransient(exception));
        Assert.StartsWith("Redis is unavailable: ", RedisFailures.Unavailable(exception).Message, StringComparison.Ordinal);
    }

    // StackExchange.Redis refuses, before sending it, a write to a slot it maps to a replica: a primary killed, its replica
    // not yet promoted. A resume of a queue (one UNLINK) answered 500 there in a black-box failover.
    [Fact]
    public void IsTransient_AWriteTheClientWillNotSendToAReplica_IsAnOutage() =>
        Assert.True(RedisFailures.IsTransient(new RedisCommandException("Command cannot be issued to a replica: UNLINK app:{q5}:paused")));

    [Fact]
    public void IsTransient_AClientRefusalOfTheRequestItself_IsAnError() =>
        Assert.False(RedisFailures.IsTransient(new RedisCommandException("Multi-key operations must involve a single slot; keys can use 'hash tags' to help optimize this.")));

    [Theory]
    [InlineData("ERR wrong number of arguments for 'hset' command")]
    [InlineData("WRONGTYPE Operation against a key holding the wrong kind of value")]
    [InlineData("NOSCRIPT No matching script. Please use EVAL.")]
    public void IsTransient_AnErrorOfTheRequest_IsAnError(string error) =>
        Assert.False(RedisFailures.IsTransient(new RedisServerException(error)));

    // StackExchange.Redis's own words for three Sentinel mistakes (an outside run): Sentinels' ports without serviceName=,
    // serviceName= with no Sentinel answering, and a service the Sentinels do not know. The message says what to check.
    [Theory]
    [InlineData("No connection is active/available to service this operation: PING; Error: ERR unknown command 'ECHO', with args beginning with: 'x'", "add serviceName=")]
    [InlineData("Sentinel: The ConnectionMultiplexer is not a Sentinel connection. Detected as: Standalone", "must be Redis Sentinels")]
    [InlineData("Sentinel: Failed connecting to configured primary for service: nosuch", "check serviceName=")]
    public void Unavailable_ASentinelMistake_SaysWhatToCheckInTheConfiguration(string message, string hint)
    {
        var unavailable = RedisFailures.Unavailable(new RedisConnectionException(ConnectionFailureType.UnableToConnect, message));

        Assert.StartsWith("Redis is unavailable: " + message, unavailable.Message, StringComparison.Ordinal);
        Assert.Contains(hint, unavailable.Message, StringComparison.Ordinal);
        Assert.Contains("Conveyor:Redis:Configuration", unavailable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unavailable_AnOutage_IsNamedAsItIs() =>
        Assert.Equal("Redis is unavailable: It was not possible to connect to the redis server(s).",
            RedisFailures.Unavailable(new RedisConnectionException(ConnectionFailureType.UnableToConnect, "It was not possible to connect to the redis server(s).")).Message);
}
