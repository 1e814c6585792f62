namespace Conveyor.Storage.Conformance;

/// <summary>Leases: extension, lost leases, cancellation requests, and recovery of expired leases.</summary>
public abstract partial class LeaseTests : JobStoreTestBase
{
    private async Task<LeaseExtension> ExtendAsync(params LeasedJob[] jobs) =>
        await ExtendAsync(Lease, jobs);

    private async Task<LeaseExtension> ExtendAsync(TimeSpan duration, params LeasedJob[] jobs) =>
        await Store.ExtendLeasesAsync(
            new ExtendLeasesRequest
            {
                ServerId = ServerId,
                Leases = jobs.Select(static j => new LeaseRef(j.Id, j.LeaseToken)).ToArray(),
                LeaseDuration = duration,
            },
            Ct);

    [Fact]
    public async Task Extend_HeldLease_ReportsNothingLost()
    {
        await EnqueueAsync();
        var leased = await DequeueOneAsync();

        var extension = await ExtendAsync(leased);

        Assert.Empty(extension.Lost);
        Assert.Empty(extension.CancelRequested);
    }

    [Fact]
    public async Task Extend_EmptyList_ReportsNothing()
    {
        var extension = await ExtendAsync();

        Assert.Empty(extension.Lost);
        Assert.Empty(extension.CancelRequested);
    }

    [Fact]
    public async Task Extend_MovesExpiry_JobNotRecoveredAtTheOldExpiry()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync(lease: TimeSpan.FromSeconds(30));
        Time.Advance(TimeSpan.FromSeconds(20));

        await ExtendAsync(TimeSpan.FromSeconds(30), leased);
        Time.Advance(TimeSpan.FromSeconds(20));

        Assert.Empty(await Store.RecoverExpiredLeasesAsync(100, Ct));
        await AssertStateAsync(id, JobState.Active);
    }

    [Fact]
    public async Task Extend_NewExpiryPasses_JobIsRecovered()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync(lease: TimeSpan.FromSeconds(30));
        Time.Advance(TimeSpan.FromSeconds(20));
        await ExtendAsync(TimeSpan.FromSeconds(30), leased);

        Time.Advance(TimeSpan.FromSeconds(31));

        var recovered = Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));
        Assert.Equal(id, recovered.JobId);
    }

    [Fact]
    public async Task Extend_ManyLeasesInOneCall_ExtendsEachAndReportsOnlyTheLostOnes()
    {
        await EnqueueManyAsync(3);
        var leased = await DequeueAsync(3);
        Assert.True(await AckAsync(Ack(leased[1], AckOutcome.Succeeded)));
        Time.Advance(TimeSpan.FromSeconds(25));

        var extension = await ExtendAsync(leased.ToArray());
        Time.Advance(TimeSpan.FromSeconds(25));

        Assert.Equal([leased[1].Id], extension.Lost);
        Assert.Empty(await Store.RecoverExpiredLeasesAsync(100, Ct));
    }

    [Fact]
    public async Task Extend_AfterAck_ReportsLost()
    {
        await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, Error(1), retryAt: Now.AddMinutes(1))));

        var extension = await ExtendAsync(leased);

        Assert.Equal([leased.Id], extension.Lost);
    }

    [Fact]
    public async Task Extend_AfterRecovery_StaleTokenReportedLost()
    {
        await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));

        var extension = await ExtendAsync(leased);

        Assert.Equal([leased.Id], extension.Lost);
    }

    [Fact]
    public async Task Extend_AfterRecoveryAndRedequeue_StaleTokenLostAndNewLeaseUntouched()
    {
        var id = await EnqueueAsync();
        var first = await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        await Store.RecoverExpiredLeasesAsync(100, Ct);
        var second = await DequeueOneAsync();
        Time.Advance(TimeSpan.FromSeconds(20));

        var extension = await ExtendAsync(TimeSpan.FromHours(1), first);
        Time.Advance(TimeSpan.FromSeconds(11));

        Assert.Equal([id], extension.Lost);
        var recovered = Assert.Single(await Store.RecoverExpiredLeasesAsync(100, Ct));
        Assert.Equal(id, recovered.JobId);
        Assert.NotEqual(first.LeaseToken, second.LeaseToken);
    }

    [Fact]
    public async Task Extend_JobDeletedAfterRecovery_ReportedLost()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 0));
        var leased = await DequeueOneAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        await Store.RecoverExpiredLeasesAsync(100, Ct);
        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, id, Ct));

        var extension = await ExtendAsync(leased);

        Assert.Equal([id], extension.Lost);
    }

    [Fact]
    public async Task Extend_UnknownJob_ReportedLost()
    {
        var extension = await Store.ExtendLeasesAsync(
            new ExtendLeasesRequest { ServerId = ServerId, Leases = [new LeaseRef("never-existed", 1)], LeaseDuration = Lease },
            Ct);

        Assert.Equal(["never-existed"], extension.Lost);
    }

    [Fact]
    public async Task Extend_CancelRequested_ReportedAndStillExtended()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.Equal(JobCommandResult.Requested, await Store.CancelAsync(DefaultTenant, id, Ct));
        Time.Advance(TimeSpan.FromSeconds(25));

        var extension = await ExtendAsync(leased);
        Time.Advance(TimeSpan.FromSeconds(25));

        Assert.Equal([id], extension.CancelRequested);
        Assert.Empty(extension.Lost);
        Assert.Empty(await Store.RecoverExpiredLeasesAsync(100, Ct));
    }

    [Fact]
    public async Task Extend_CancelRequested_ReportedAtEveryExtensionUntilAcknowledged()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        await Store.CancelAsync(DefaultTenant, id, Ct);

        Assert.Equal([id], (await ExtendAsync(leased)).CancelRequested);
        Assert.Equal([id], (await ExtendAsync(leased)).CancelRequested);
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Cancelled)));
        Assert.Empty((await ExtendAsync(leased)).CancelRequested);
    }

    [Fact]
    public async Task Extend_OnlyTheJobWithTheRequest_IsReportedCancelRequested()
    {
        await EnqueueManyAsync(2);
        var leased = await DequeueAsync(2);
        await Store.CancelAsync(DefaultTenant, leased[1].Id, Ct);

        var extension = await ExtendAsync(leased.ToArray());

        Assert.Equal([leased[1].Id], extension.CancelRequested);
    }
}
