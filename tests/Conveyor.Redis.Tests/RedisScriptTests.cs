using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

/// <summary>The scripts as Redis gets them: each declares its flags, and each is known by the SHA1 the store sends.</summary>
public sealed class RedisScriptTests
{
    [RedisFact]
    public async Task EveryScript_DeclaresItsFlagsAndIsLoadedUnderTheShaTheStoreSends()
    {
        // A server of the test's own, whose script cache no other test flushes.
        await using var redis = await RedisServerProcess.StartAsync("--appendonly", "no");
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        await using var store = new RedisJobStore(connection, new RedisStoreOptions { KeyPrefix = "scripts" }, TimeProvider.System);
        await store.InitializeAsync(CancellationToken.None);

        var server = connection.GetServers().Single(s => !s.IsReplica);
        Assert.All(RedisScript.All, script =>
        {
            // A full Redis refuses a script that writes before it runs only when the script declares its flags.
            Assert.StartsWith("#!lua flags=", script.Text, StringComparison.Ordinal);
            // Otherwise every call goes to EVAL with the whole text after a NOSCRIPT.
            Assert.True(server.ScriptExists(script.Sha1), script.Name);
        });
    }
}
