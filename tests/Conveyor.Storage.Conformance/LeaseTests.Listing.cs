namespace Conveyor.Storage.Conformance;

/// <summary>The leases of one server: what it reads after a call that takes leases failed, to hand back those it never heard of.</summary>
public abstract partial class LeaseTests
{
    private const string OtherServerId = "server-b";

    private async Task<LeaseRef[]> ListLeasesAsync(string serverId = ServerId) =>
        [.. (await Store.ListLeasesAsync(serverId, Ct)).OrderBy(static l => l.JobId, StringComparer.Ordinal)];

    private static LeaseRef[] LeasesOf(params LeasedJob[] jobs) =>
        [.. jobs.Select(static j => new LeaseRef(j.Id, j.LeaseToken)).OrderBy(static l => l.JobId, StringComparer.Ordinal)];

    [Fact]
    public async Task ListLeases_TheServersActiveJobs_AreListedWithTheirTokens_InEveryQueue()
    {
        await EnqueueManyAsync(2);
        await EnqueueAsync(NewJob(queue: "mail"));
        var leased = await DequeueAsync(2);
        var mail = await DequeueOneAsync("mail");

        Assert.Equal(LeasesOf([.. leased, mail]), await ListLeasesAsync());
    }

    [Fact]
    public async Task ListLeases_AnotherServersLeases_AreNotListed()
    {
        await EnqueueManyAsync(2);
        var mine = await DequeueOneAsync();
        var theirs = Assert.Single(await Store.DequeueAsync(Request(1, serverId: OtherServerId), Ct));

        Assert.Equal(LeasesOf(mine), await ListLeasesAsync());
        Assert.Equal(LeasesOf(theirs), await ListLeasesAsync(OtherServerId));
    }

    [Fact]
    public async Task ListLeases_NoLease_ListsNothing()
    {
        await EnqueueAsync();

        Assert.Empty(await ListLeasesAsync());
    }

    [Fact]
    public async Task ListLeases_FinishedHandedBackSnoozedAndRecoveredJobs_AreNotListed()
    {
        await EnqueueManyAsync(5);
        var leased = await DequeueAsync(5);
        Assert.True(await AckAsync(Ack(leased[0], AckOutcome.Succeeded)));
        Assert.True(await AckAsync(Ack(leased[1], AckOutcome.Failed, Error(1))));
        Assert.True(await AckAsync(Ack(leased[2], AckOutcome.Released)));
        Assert.True(await AckAsync(Ack(leased[3], AckOutcome.Snoozed) with { SnoozeUntil = Now + TimeSpan.FromMinutes(1) }));
        await EnqueueAsync();

        Assert.Equal(LeasesOf(leased[4]), await ListLeasesAsync());

        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Contains(await Store.RecoverExpiredLeasesAsync(100, Ct), r => r.JobId == leased[4].Id);
        Assert.Empty(await ListLeasesAsync());
    }

    [Fact]
    public async Task ListLeases_AnExpiredLeaseNotYetRecovered_IsListed()
    {
        await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        Assert.Equal(LeasesOf(leased), await ListLeasesAsync());
    }

    [Fact]
    public async Task ListLeases_AJobHandedBackAndLeasedAgain_IsListedUnderItsNewTokenOnly()
    {
        await EnqueueAsync();
        var first = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(first, AckOutcome.Released)));
        var second = await DequeueOneAsync();

        Assert.NotEqual(first.LeaseToken, second.LeaseToken);
        Assert.Equal(LeasesOf(second), await ListLeasesAsync());
    }
}
