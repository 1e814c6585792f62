using Conveyor.Storage;

namespace Conveyor.Redis.Tests;

/// <summary>
/// Keys written by an earlier version: a store whose queues have tenant listings but no tenant sets (as before the
/// every-tenant listing existed) fills the sets once at start, so an operator's every-tenant listing finds old jobs.
/// </summary>
public sealed class RedisUpgradeTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [RedisFact]
    public async Task Initialize_OnAStoreWithoutTenantSets_FillsThemFromTheListings_Once()
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        var ids = new List<string>();
        await using (var old = await RedisTestEnvironment.CreateStoreAsync(_time, prefix))
        {
            await old.InitializeAsync(CancellationToken.None);
            foreach (var (queue, tenant) in new[] { ("default", "tenant-a"), ("low", "tenant-b"), ("default", "tenant-c") })
            {
                var job = RedisKeyLayoutTests.NewJob(queue) with { Tenant = tenant };
                await old.EnqueueManyAsync([job], CancellationToken.None);
                ids.Add(job.Id);
                _time.Advance(TimeSpan.FromSeconds(1));
            }

            // tenant-c's only job leaves: its listing goes, and the upgrade must not name it again.
            Assert.Equal(JobCommandResult.Done, await old.DeleteAsync("tenant-c", ids[2], CancellationToken.None));
        }

        var redis = (await RedisTestEnvironment.ConnectionAsync()).GetDatabase();
        await redis.KeyDeleteAsync([$"{prefix}:{{default}}:t:", $"{prefix}:{{low}}:t:", $"{prefix}:upgrades"]);
        await using (var before = await RedisTestEnvironment.CreateStoreAsync(_time, prefix))
        {
            Assert.Empty((await before.ListAsync(new JobQuery { Tenant = null, Limit = 10 }, CancellationToken.None)).Jobs);
        }

        await using var upgraded = await RedisTestEnvironment.CreateStoreAsync(_time, prefix);
        await upgraded.InitializeAsync(CancellationToken.None);

        var every = await upgraded.ListAsync(new JobQuery { Tenant = null, Limit = 10 }, CancellationToken.None);
        Assert.Equal([ids[1], ids[0]], every.Jobs.Select(j => j.Id));
        Assert.Equal(["tenant-a"], (await redis.SetMembersAsync($"{prefix}:{{default}}:t:")).Select(m => (string)m!));
        Assert.True(await redis.HashExistsAsync($"{prefix}:upgrades", "tenant-sets"));
    }

    // A store a newer version used: this version's scripts would leave out keys that version reads (a roll-back once left
    // batches out of the every-tenant listing for good), so the start is refused, naming what to do.
    [RedisFact]
    public async Task Initialize_OnAStoreOfANewerKeyLayout_RefusesForGood_AndAnEqualOneOpens()
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        await using (var first = await RedisTestEnvironment.CreateStoreAsync(_time, prefix))
        {
            await first.InitializeAsync(CancellationToken.None);
        }

        var redis = (await RedisTestEnvironment.ConnectionAsync()).GetDatabase();
        Assert.Equal(RedisJobStore.KeyLayout, (int)await redis.HashGetAsync($"{prefix}:upgrades", "layout"));
        await using (var again = await RedisTestEnvironment.CreateStoreAsync(_time, prefix))
        {
            await again.InitializeAsync(CancellationToken.None);
        }

        await redis.HashSetAsync($"{prefix}:upgrades", "layout", RedisJobStore.KeyLayout + 1);
        await using var older = await RedisTestEnvironment.CreateStoreAsync(_time, prefix);
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await older.InitializeAsync(CancellationToken.None));

        Assert.Contains($"key layout {RedisJobStore.KeyLayout + 1}, newer than the {RedisJobStore.KeyLayout}", error.Message, StringComparison.Ordinal);
        Assert.Contains("Upgrade Conveyor.Redis", error.Message, StringComparison.Ordinal);
    }

    // Layout 2 (schedules' revisions, outbox entries with a finish time): a store the previous version left at 1 opens
    // and is raised, so that version refuses it from then on.
    [RedisFact]
    public async Task Initialize_OnAStoreOfAnOlderKeyLayout_OpensAndRaisesIt()
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        var redis = (await RedisTestEnvironment.ConnectionAsync()).GetDatabase();
        await redis.HashSetAsync($"{prefix}:upgrades", "layout", RedisJobStore.KeyLayout - 1);

        await using (var store = await RedisTestEnvironment.CreateStoreAsync(_time, prefix))
        {
            await store.InitializeAsync(CancellationToken.None);
        }

        Assert.Equal(RedisJobStore.KeyLayout, (int)await redis.HashGetAsync($"{prefix}:upgrades", "layout"));
    }

    [RedisTheory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("0")]
    [InlineData("-5")]
    public async Task Initialize_OnAKeyLayoutNoVersionWrites_RefusesNamingIt_AndLeavesItAsItIs(string layout)
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        var redis = (await RedisTestEnvironment.ConnectionAsync()).GetDatabase();
        await redis.HashSetAsync($"{prefix}:upgrades", "layout", layout);
        await using var store = await RedisTestEnvironment.CreateStoreAsync(_time, prefix);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await store.InitializeAsync(CancellationToken.None));

        Assert.Contains($"key layout '{layout}' in {prefix}:upgrades, which no version of Conveyor.Redis writes", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("newer", error.Message, StringComparison.Ordinal);
        Assert.Equal(layout, (string?)await redis.HashGetAsync($"{prefix}:upgrades", "layout"));
    }

    [RedisFact]
    public async Task Initialize_OnANewStore_MarksTheUpgradeDone_WithoutScanning()
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        await using var store = await RedisTestEnvironment.CreateStoreAsync(_time, prefix);

        await store.InitializeAsync(CancellationToken.None);

        var redis = (await RedisTestEnvironment.ConnectionAsync()).GetDatabase();
        Assert.True(await redis.HashExistsAsync($"{prefix}:upgrades", "tenant-sets"));
    }

    [RedisTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Initialize_OnAStoreWithoutBatchListings_ListsTheBatchesStored_Once(bool withoutTenantListings)
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        var ids = new List<string>();
        await using (var old = await RedisTestEnvironment.CreateStoreAsync(_time, prefix))
        {
            await old.InitializeAsync(CancellationToken.None);
            for (var i = 0; i < 3; i++)
            {
                var batch = new NewBatch { Id = BatchId.New(), Tenant = i == 1 ? "tenant-b" : TenantId.Default, Retention = TimeSpan.FromDays(1) };
                Assert.True((await old.CreateBatchAsync(batch, [RedisKeyLayoutTests.NewJob("default") with { Tenant = batch.Tenant, BatchId = batch.Id }], CancellationToken.None)).AllStored);
                ids.Add(batch.Id);
                _time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        // As a version before the listings left them (no listing, no upgrade mark), or one before every tenant's
        // listing (the tenants' listings and their mark, not every tenant's).
        var redis = (await RedisTestEnvironment.ConnectionAsync()).GetDatabase();
        var coordination = $"{prefix}:{{{prefix}:coord}}:";
        await redis.KeyDeleteAsync(coordination + "ba");
        await redis.HashDeleteAsync($"{prefix}:upgrades", "batch-listing-every-tenant");
        if (withoutTenantListings)
        {
            await redis.KeyDeleteAsync([coordination + $"bt:{TenantId.Default}", coordination + "bt:tenant-b", $"{prefix}:upgrades"]);
        }

        await using var upgraded = await RedisTestEnvironment.CreateStoreAsync(_time, prefix);
        await upgraded.InitializeAsync(CancellationToken.None);

        var listed = await upgraded.ListBatchesAsync(new BatchQuery { Tenant = TenantId.Default }, CancellationToken.None);
        Assert.Equal([ids[2], ids[0]], listed.Batches.Select(b => b.Id));
        Assert.Equal([ids[1]], (await upgraded.ListBatchesAsync(new BatchQuery { Tenant = "tenant-b" }, CancellationToken.None)).Batches.Select(b => b.Id));
        Assert.Equal([ids[2], ids[1], ids[0]], (await upgraded.ListBatchesAsync(new BatchQuery { Tenant = null }, CancellationToken.None)).Batches.Select(b => b.Id));
        Assert.True(await redis.HashExistsAsync($"{prefix}:upgrades", "batch-listings"));
        Assert.True(await redis.HashExistsAsync($"{prefix}:upgrades", "batch-listing-every-tenant"));
    }
}
