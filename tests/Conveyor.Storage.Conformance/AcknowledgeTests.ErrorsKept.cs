namespace Conveyor.Storage.Conformance;

/// <summary>
/// A job keeps at most <see cref="JobError.MaxKeptPerJob"/> errors in every store: its first and the most recent ones,
/// whichever way they were appended.
/// </summary>
public abstract partial class AcknowledgeTests
{
    [Fact]
    public async Task Ack_FailedMoreTimesThanErrorsKept_KeepsTheFirstErrorAndTheMostRecentInOrder()
    {
        var attempts = JobError.MaxKeptPerJob + 5;
        var id = await EnqueueAsync(NewJob(maxRetry: attempts));
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            var leased = await DequeueOneAsync();
            Assert.Equal(attempt, leased.Attempt);
            var error = Error(attempt, $"failure {attempt}") with { StackTrace = $"   at Shop.Billing.Charge() attempt {attempt}" };
            var outcome = attempt == attempts ? AckOutcome.Failed : AckOutcome.Retry;
            Assert.True(await AckAsync(Ack(leased, outcome, error, retryAt: outcome == AckOutcome.Retry ? Now : null)));
            await Store.PromoteDueAsync(10, Ct);
        }

        var job = await GetAsync(id);
        Assert.Equal(JobState.Failed, job.State);
        int[] expected = [1, .. Enumerable.Range(attempts - JobError.MaxKeptPerJob + 2, JobError.MaxKeptPerJob - 1)];
        Assert.Equal(expected, job.Errors.Select(e => e.Attempt));
        Assert.All(job.Errors, e => Assert.Equal($"failure {e.Attempt}", e.Message));
        Assert.All(job.Errors, e => Assert.Equal($"   at Shop.Billing.Charge() attempt {e.Attempt}", e.StackTrace));
    }

    [Fact]
    public async Task Ack_MoreItemErrorsThanKept_KeepsTheJobsFirstErrorAndTheMostRecentItems()
    {
        var id = await EnqueueAsync(NewJob(maxRetry: 5));
        var first = await DequeueOneAsync();
        Assert.True(await AckAsync(Ack(first, AckOutcome.Retry, Error(1, "first failure"), retryAt: Now)));
        await Store.PromoteDueAsync(10, Ct);
        var second = await DequeueOneAsync();
        var items = Enumerable.Range(1, JobError.MaxKeptPerJob * 2).Select(i => Error(2, $"row {i} skipped", null, $"row-{i}")).ToList();

        Assert.True(await AckAsync(Ack(second, AckOutcome.Failed, Error(2, "second failure"), itemErrors: items)));

        var job = await GetAsync(id);
        string[] expected = ["first failure", .. items.Skip(items.Count - JobError.MaxKeptPerJob + 2).Select(e => e.Message), "second failure"];
        Assert.Equal(expected, job.Errors.Select(e => e.Message));
    }
}
