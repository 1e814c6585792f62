namespace Conveyor.Storage.Conformance;

/// <summary>An attempt's error keeps its stack trace, as given, in every store.</summary>
public abstract partial class AcknowledgeTests
{
    [Theory]
    [InlineData(AckOutcome.Failed)]
    [InlineData(AckOutcome.Retry)]
    public async Task Ack_ErrorWithAStackTrace_IsStoredWithItAndErrorsWithoutOneStayWithout(AckOutcome outcome)
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 5));
        var leased = await DequeueOneAsync();
        var stack = "   at Shop.Billing.Charge(Order order) in /src/Billing.cs:line 42\n   at \"quoted\" — ünïcode\r\n\t" + new string('x', 6000);
        var error = Error(leased.Attempt, "card declined") with { StackTrace = stack };

        Assert.True(await AckAsync(Ack(leased, outcome, error, retryAt: outcome == AckOutcome.Retry ? Now.AddMinutes(1) : null,
            itemErrors: [Error(leased.Attempt, "row 3 skipped", null, "row-3")])));

        var job = await GetAsync(id);
        Assert.Equal(stack, Assert.Single(job.Errors, e => e.Message == "card declined").StackTrace);
        Assert.Null(Assert.Single(job.Errors, e => e.Item == "row-3").StackTrace);
        var listed = Assert.Single((await Store.ListAsync(new JobQuery { Tenant = DefaultTenant }, Ct)).Jobs);
        Assert.Equal(stack, Assert.Single(listed.Errors, e => e.Message == "card declined").StackTrace);
    }
}
