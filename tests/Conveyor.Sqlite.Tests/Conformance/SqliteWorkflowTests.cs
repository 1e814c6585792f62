using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Sqlite.Tests.Conformance;

public sealed class SqliteWorkflowTests : WorkflowTests
{
    private readonly SqliteTestDatabase _database = new();

    protected override bool TakesReleasedJobs => true;

    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) => _database.CreateStoreAsync(timeProvider);

    [Fact]
    public async Task Chain_LongerThanTheTriggerDepth_IsCancelledWholeInOneAcknowledgement_EachSayingWhichStepDidNotSucceed()
    {
        // SQLite stops nested triggers at a depth of 1,000; a failure's cancellations are one statement over the whole
        // closure since migration 0018, not a trigger level per step (conformance runs 3,000 steps; this one sits just
        // past the old limit, with a fail-policy step in the middle whose dependants keep their own policy).
        var first = await EnqueueAsync(NewJob(queue: "past-the-depth"));
        var chain = new List<string>();
        var previous = first;
        for (var i = 0; i < 1_001; i++)
        {
            var job = NewJob(queue: "past-the-depth");
            previous = await EnqueueAsync(i == 500 ? AfterElseFail(job, previous) : After(job, previous));
            chain.Add(previous);
        }

        await RunOneAsync("past-the-depth", AckOutcome.Failed);

        Assert.Equal(JobState.Cancelled, (await GetAsync(chain[0])).State);
        var failed = await GetAsync(chain[500]);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains(failed.Errors, e => e.Message == WorkflowMessages.DependencyFailed(chain[499]));
        var last = await GetAsync(chain[^1]);
        Assert.Equal(JobState.Cancelled, last.State);
        Assert.Contains(last.Errors, e => e.Message == WorkflowMessages.DependencyDidNotSucceed(chain[^2]));
        var stats = await StatsOfAsync("past-the-depth");
        Assert.Equal((0, 0, 1_000, 2), (stats.Waiting, stats.Pending, stats.Cancelled, stats.Failed));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }
}
