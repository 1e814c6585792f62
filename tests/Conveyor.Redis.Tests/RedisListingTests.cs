using Conveyor.Storage;

namespace Conveyor.Redis.Tests;

/// <summary>Listings read in bounded scans: a filter that matches few of many jobs still pages exactly.</summary>
public sealed class RedisListingTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [RedisFact]
    public async Task List_SelectiveFilterOverMoreJobsThanOneScan_PagesNewestFirstAcrossQueues()
    {
        await using var store = await RedisTestEnvironment.CreateStoreAsync(_time);
        await store.InitializeAsync(CancellationToken.None);
        var rare = new List<string>();
        for (var i = 0; i < 6000; i += 500)
        {
            var jobs = Enumerable.Range(i, 500).Select(n => RedisKeyLayoutTests.NewJob(n % 2 == 0 ? "default" : "low") with
            {
                Type = n % 1000 == 7 || n == 5998 ? "rare:kind" : "test:run",
            }).ToList();
            await store.EnqueueManyAsync(jobs, CancellationToken.None);
            rare.AddRange(jobs.Where(j => j.Type == "rare:kind").Select(j => j.Id));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var expected = (await Task.WhenAll(rare.Select(async id => (await store.GetAsync(TenantId.Default, id, CancellationToken.None))!)))
            .OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id, StringComparer.Ordinal).Select(j => j.Id).ToList();
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await store.ListAsync(new JobQuery { Tenant = TenantId.Default, Type = "rare:kind", Limit = 3, Cursor = cursor }, CancellationToken.None);
            Assert.True(page.Jobs.Count <= 3);
            seen.AddRange(page.Jobs.Select(j => j.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(7, expected.Count);
        Assert.Equal(expected, seen);
    }
}
