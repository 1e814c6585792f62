using System.Text;

namespace Conveyor.Storage.Conformance;

/// <summary>Durable steps: stored only by the lease holder, read back by a later attempt, gone with the job.</summary>
public abstract partial class LeaseTests
{
    private JobStep Step(string name, string result, int attempt = 1) => new(name, attempt, Encoding.UTF8.GetBytes(result), Now);

    [Fact]
    public async Task SaveStep_UnderTheLease_IsReadBackInOrderByTheNextAttempt()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 3));
        var first = await DequeueOneAsync();
        Assert.True(await Store.SaveStepAsync(id, first.LeaseToken, Step("charge", """{"charge_id":"ch_1"}"""), Ct));
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await Store.SaveStepAsync(id, first.LeaseToken, Step("email", "\"sent\""), Ct));
        Assert.True(await AckAsync(Ack(first, AckOutcome.Retry, Error(1), retryAt: Now)));
        await Store.PromoteDueAsync(10, Ct);

        var second = await DequeueOneAsync();
        var steps = await Store.GetStepsAsync(DefaultTenant, id, Ct);

        Assert.Equal(2, second.Attempt);
        Assert.NotNull(steps);
        Assert.Equal(["charge", "email"], steps.Select(s => s.Name));
        Assert.Equal("""{"charge_id":"ch_1"}""", Encoding.UTF8.GetString(steps[0].Result.Span));
        Assert.Equal((1, StartTime), (steps[0].Attempt, steps[0].CompletedAt));
        Assert.Equal(StartTime.AddSeconds(1), steps[1].CompletedAt);
    }

    [Fact]
    public async Task SaveStep_SameNameAgain_ReplacesItInPlace()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.True(await Store.SaveStepAsync(id, leased.LeaseToken, Step("a", "1"), Ct));
        Assert.True(await Store.SaveStepAsync(id, leased.LeaseToken, Step("b", "2"), Ct));

        Assert.True(await Store.SaveStepAsync(id, leased.LeaseToken, Step("a", "3"), Ct));

        var steps = (await Store.GetStepsAsync(DefaultTenant, id, Ct))!;
        Assert.Equal(["a:3", "b:2"], steps.Select(s => s.Name + ":" + Encoding.UTF8.GetString(s.Result.Span)));
    }

    [Fact]
    public async Task SaveStep_WithoutTheLease_IsFalseAndStoresNothing()
    {
        var id = await EnqueueAsync();
        Assert.False(await Store.SaveStepAsync(id, 1, Step("early", "1"), Ct));
        var leased = await DequeueOneAsync();

        Assert.False(await Store.SaveStepAsync(id, leased.LeaseToken + 1, Step("wrong-token", "1"), Ct));
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded)));
        Assert.False(await Store.SaveStepAsync(id, leased.LeaseToken, Step("after-ack", "1"), Ct));
        Assert.False(await Store.SaveStepAsync("no-such-job", 1, Step("x", "1"), Ct));

        Assert.Empty((await Store.GetStepsAsync(DefaultTenant, id, Ct))!);
    }

    [Fact]
    public async Task GetSteps_AnotherTenantOrNoJob_IsNull_AndAJobWithoutStepsIsEmpty()
    {
        var id = await EnqueueAsync(NewJob(tenant: "tenant-a"));
        var leased = await DequeueOneAsync();
        Assert.True(await Store.SaveStepAsync(id, leased.LeaseToken, Step("a", "1"), Ct));
        var plain = await EnqueueAsync();

        Assert.Null(await Store.GetStepsAsync("tenant-b", id, Ct));
        Assert.Null(await Store.GetStepsAsync(DefaultTenant, "no-such-job", Ct));
        Assert.Single((await Store.GetStepsAsync("tenant-a", id, Ct))!);
        Assert.Empty((await Store.GetStepsAsync(DefaultTenant, plain, Ct))!);
    }

    [Fact]
    public async Task SaveStep_BinaryResultUpToTheLimit_RoundTrips_AndALargerOneIsRefused()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        var largest = Bytes(JobStep.MaxResultBytes);

        Assert.True(await Store.SaveStepAsync(id, leased.LeaseToken, new JobStep("big", 1, largest, Now), Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await Store.SaveStepAsync(id, leased.LeaseToken, new JobStep("too-big", 1, new byte[JobStep.MaxResultBytes + 1], Now), Ct));

        Assert.Equal(largest, (await Store.GetStepsAsync(DefaultTenant, id, Ct))!.Single().Result.ToArray());
    }

    [Fact]
    public async Task Steps_GoWithTheJob_WhenItIsDeleted()
    {
        var id = await EnqueueAsync();
        var leased = await DequeueOneAsync();
        Assert.True(await Store.SaveStepAsync(id, leased.LeaseToken, Step("a", "1"), Ct));
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Failed, Error(1))));

        Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(DefaultTenant, id, Ct));

        Assert.Null(await Store.GetStepsAsync(DefaultTenant, id, Ct));
        var again = await EnqueueAsync(NewJob(id: id));
        Assert.Empty((await Store.GetStepsAsync(DefaultTenant, again, Ct))!);
    }

    [Fact]
    public async Task Steps_GoWithTheJob_WhenItIsPurged()
    {
        var id = await EnqueueAsync(NewJob(retention: TimeSpan.FromMinutes(1)));
        var leased = await DequeueOneAsync();
        Assert.True(await Store.SaveStepAsync(id, leased.LeaseToken, Step("a", "1"), Ct));
        Assert.True(await AckAsync(Ack(leased, AckOutcome.Succeeded)));
        Time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(1, await Store.PurgeExpiredAsync(10, Ct));

        Assert.Null(await Store.GetStepsAsync(DefaultTenant, id, Ct));
        await EnqueueAsync(NewJob(id: id));
        Assert.Empty((await Store.GetStepsAsync(DefaultTenant, id, Ct))!);
    }
}
