namespace Conveyor.Storage.Conformance;

/// <summary>Progress: only the lease holder of an active job can report it.</summary>
public abstract partial class LeaseTests
{
    [Fact]
    public async Task ReportProgress_ActiveUnderToken_IsVisibleInGet()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Time.Advance(TimeSpan.FromSeconds(4));

        Assert.True(await Store.ReportProgressAsync(id, leased.LeaseToken, 42, Ct));

        var job = await GetAsync(id);
        Assert.Equal(42, job.Progress);
        Assert.Equal(JobState.Active, job.State);
        Assert.Equal(Now, job.UpdatedAt);
    }

    [Fact]
    public async Task ReportProgress_Repeatedly_LastValueWins()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();

        Assert.True(await Store.ReportProgressAsync(id, leased.LeaseToken, 10, Ct));
        Assert.True(await Store.ReportProgressAsync(id, leased.LeaseToken, 75, Ct));

        Assert.Equal(75, (await GetAsync(id)).Progress);
    }

    [Fact]
    public async Task ReportProgress_WrongToken_IsFalseAndChangesNothing()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();

        Assert.False(await Store.ReportProgressAsync(id, leased.LeaseToken + 1, 50, Ct));

        Assert.Equal(0, (await GetAsync(id)).Progress);
    }

    [Fact]
    public async Task ReportProgress_PendingJob_IsFalse()
    {
        var id = await EnqueueAsync();

        Assert.False(await Store.ReportProgressAsync(id, 1, 50, Ct));

        Assert.Equal(0, (await GetAsync(id)).Progress);
    }

    [Fact]
    public async Task ReportProgress_AfterAck_IsFalseAndChangesNothing()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Failed, Error(1))));

        Assert.False(await Store.ReportProgressAsync(id, leased.LeaseToken, 50, Ct));

        Assert.Equal(0, (await GetAsync(id)).Progress);
    }

    [Fact]
    public async Task ReportProgress_UnknownJob_IsFalse()
    {
        Assert.False(await Store.ReportProgressAsync("no-such-job", 1, 50, Ct));
    }
}
