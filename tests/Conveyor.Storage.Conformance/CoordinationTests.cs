namespace Conveyor.Storage.Conformance;

/// <summary>Coordination primitives: locks with a TTL and the server registry (idempotency records: <see cref="IdempotencyTests"/>).</summary>
public abstract partial class CoordinationTests : JobStoreTestBase
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    private ServerInfo Server(string id, TimeSpan? expiresIn = null, int activeJobs = 0) => new()
    {
        Id = id,
        Host = "worker-host-1",
        ProcessId = 4242,
        Queues = new Dictionary<string, int> { ["critical"] = 6, ["default"] = 3, ["low"] = 1 },
        Concurrency = 16,
        ActiveJobs = activeJobs,
        StartedAt = StartTime,
        LastHeartbeatAt = Now,
        ExpiresAt = Now + (expiresIn ?? TimeSpan.FromSeconds(30)),
    };

    [Fact]
    public async Task Lock_Free_IsAcquired()
    {
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-a", Ttl, Ct));
    }

    [Fact]
    public async Task Lock_HeldByAnotherOwner_IsRefused()
    {
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-a", Ttl, Ct));

        Assert.False(await Store.TryAcquireLockAsync("cron-leader", "server-b", Ttl, Ct));
    }

    [Fact]
    public async Task Lock_HeldByAnotherOwnerJustBeforeTtl_IsStillRefused()
    {
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-a", Ttl, Ct));
        Time.Advance(Ttl - TimeSpan.FromMilliseconds(1));

        Assert.False(await Store.TryAcquireLockAsync("cron-leader", "server-b", Ttl, Ct));
    }

    [Fact]
    public async Task Lock_AfterTtlPassed_AnotherOwnerAcquiresIt()
    {
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-a", Ttl, Ct));
        Time.Advance(Ttl + TimeSpan.FromMilliseconds(1));

        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-b", Ttl, Ct));
        Assert.False(await Store.TryAcquireLockAsync("cron-leader", "server-a", Ttl, Ct));
    }

    [Fact]
    public async Task Lock_SameOwnerAgain_IsAcquiredAndExtended()
    {
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-a", Ttl, Ct));
        Time.Advance(TimeSpan.FromSeconds(20));

        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-a", Ttl, Ct));
        Time.Advance(TimeSpan.FromSeconds(20));

        // 40 s after the first acquisition: past the first TTL, within the extended one.
        Assert.False(await Store.TryAcquireLockAsync("cron-leader", "server-b", Ttl, Ct));
        Time.Advance(TimeSpan.FromSeconds(11));
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-b", Ttl, Ct));
    }

    [Fact]
    public async Task Lock_DifferentNames_AreIndependent()
    {
        Assert.True(await Store.TryAcquireLockAsync("lock-1", "server-a", Ttl, Ct));

        Assert.True(await Store.TryAcquireLockAsync("lock-2", "server-b", Ttl, Ct));
    }

    [Fact]
    public async Task Release_ByOwner_IsTrueAndFreesTheLock()
    {
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-a", Ttl, Ct));

        Assert.True(await Store.ReleaseLockAsync("cron-leader", "server-a", Ct));

        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-b", Ttl, Ct));
    }

    [Fact]
    public async Task Release_ByAnotherOwner_IsFalseAndKeepsTheLock()
    {
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-a", Ttl, Ct));

        Assert.False(await Store.ReleaseLockAsync("cron-leader", "server-b", Ct));

        Assert.False(await Store.TryAcquireLockAsync("cron-leader", "server-b", Ttl, Ct));
    }

    [Fact]
    public async Task Release_LockNeverTaken_IsFalse()
    {
        Assert.False(await Store.ReleaseLockAsync("nothing", "server-a", Ct));
    }

    [Fact]
    public async Task Release_AfterAnotherOwnerTookTheExpiredLock_IsFalseAndKeepsTheirLock()
    {
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-a", Ttl, Ct));
        Time.Advance(Ttl + TimeSpan.FromSeconds(1));
        Assert.True(await Store.TryAcquireLockAsync("cron-leader", "server-b", Ttl, Ct));

        Assert.False(await Store.ReleaseLockAsync("cron-leader", "server-a", Ct));

        Assert.False(await Store.TryAcquireLockAsync("cron-leader", "server-c", Ttl, Ct));
    }

    [Fact]
    public async Task Lock_ConcurrentAcquirers_ExactlyOneWins()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 10)
            .Select(i => Task.Run(async () => await Store.TryAcquireLockAsync("contended", $"server-{i}", Ttl, Ct))));

        Assert.Single(results, static r => r);
    }

    [Fact]
    public async Task Servers_NoneRegistered_IsEmpty()
    {
        Assert.Empty(await Store.ListServersAsync(Ct));
    }

    [Fact]
    public async Task Servers_Heartbeat_IsListedWithEveryField()
    {
        var server = Server("server-a", activeJobs: 3);

        await Store.HeartbeatServerAsync(server, Ct);

        var listed = Assert.Single(await Store.ListServersAsync(Ct));
        Assert.Equal("server-a", listed.Id);
        Assert.Equal("worker-host-1", listed.Host);
        Assert.Equal(4242, listed.ProcessId);
        Assert.Equal(server.Queues.OrderBy(static q => q.Key), listed.Queues.OrderBy(static q => q.Key));
        Assert.Equal(16, listed.Concurrency);
        Assert.Equal(3, listed.ActiveJobs);
        Assert.Equal(StartTime, listed.StartedAt);
        Assert.Equal(server.LastHeartbeatAt, listed.LastHeartbeatAt);
        Assert.Equal(server.ExpiresAt, listed.ExpiresAt);
    }

    [Fact]
    public async Task Servers_Refresh_UpdatesTheEntry()
    {
        await Store.HeartbeatServerAsync(Server("server-a", activeJobs: 1), Ct);
        Time.Advance(TimeSpan.FromSeconds(10));

        await Store.HeartbeatServerAsync(Server("server-a", activeJobs: 7), Ct);

        var listed = Assert.Single(await Store.ListServersAsync(Ct));
        Assert.Equal(7, listed.ActiveJobs);
        Assert.Equal(Now, listed.LastHeartbeatAt);
        Assert.Equal(Now.AddSeconds(30), listed.ExpiresAt);
    }

    [Fact]
    public async Task Servers_RefreshBeforeExpiry_KeepsItListedPastTheFirstExpiry()
    {
        await Store.HeartbeatServerAsync(Server("server-a"), Ct);
        Time.Advance(TimeSpan.FromSeconds(20));
        await Store.HeartbeatServerAsync(Server("server-a"), Ct);

        Time.Advance(TimeSpan.FromSeconds(20));

        Assert.Single(await Store.ListServersAsync(Ct));
    }

    [Fact]
    public async Task Servers_ExpiresAtPassed_IsHidden()
    {
        await Store.HeartbeatServerAsync(Server("server-a", TimeSpan.FromSeconds(30)), Ct);
        await Store.HeartbeatServerAsync(Server("server-b", TimeSpan.FromMinutes(5)), Ct);

        Time.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, (await Store.ListServersAsync(Ct)).Count);

        Time.Advance(TimeSpan.FromMilliseconds(2));
        Assert.Equal(["server-b"], (await Store.ListServersAsync(Ct)).Select(static s => s.Id));
    }

    [Fact]
    public async Task Servers_Remove_IsNoLongerListed()
    {
        await Store.HeartbeatServerAsync(Server("server-a"), Ct);
        await Store.HeartbeatServerAsync(Server("server-b"), Ct);

        await Store.RemoveServerAsync("server-a", Ct);

        Assert.Equal(["server-b"], (await Store.ListServersAsync(Ct)).Select(static s => s.Id));
    }

    [Fact]
    public async Task Servers_RemoveUnknown_IsHarmless()
    {
        await Store.RemoveServerAsync("never-registered", Ct);

        Assert.Empty(await Store.ListServersAsync(Ct));
    }

    [Fact]
    public async Task Servers_AreOrderedById()
    {
        await Store.HeartbeatServerAsync(Server("server-c"), Ct);
        await Store.HeartbeatServerAsync(Server("server-a"), Ct);
        await Store.HeartbeatServerAsync(Server("server-b"), Ct);

        var listed = await Store.ListServersAsync(Ct);

        Assert.Equal(["server-a", "server-b", "server-c"], listed.Select(static s => s.Id));
    }
}
