using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Sqlite.Tests.Conformance;

public sealed class SqliteWorkflowTests : WorkflowTests
{
    private readonly SqliteTestDatabase _database = new();

    protected override bool TakesReleasedJobs => true;

    // SQLite stops nested triggers at a depth of 1,000 (SQLITE_MAX_TRIGGER_DEPTH); ARCHITECTURE.md, "Workflows".
    protected override int CancelledChainLength => 999;

    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) => _database.CreateStoreAsync(timeProvider);

    [Fact]
    public async Task Chain_LongerThanTheTriggerDepth_RefusesTheAcknowledgementAsItsOwnError_NotAsAnOutage_AndChangesNothing()
    {
        // The known limit: the server writes such an acknowledgement alone, in the background, because the store
        // refuses it (an error that is not JobStoreUnavailableException) rather than being down
        // (AcknowledgementRefusalTests); the rest of its batch, and later batches, are stored.
        var first = await EnqueueAsync(NewJob(queue: "too-long"));
        var previous = first;
        for (var i = 0; i < 1_000; i++)
        {
            previous = await EnqueueAsync(After(NewJob(queue: "too-long"), previous));
        }

        var plain = await EnqueueAsync(NewJob(queue: "plain"));
        var head = await DequeueOneAsync("too-long");
        var other = await DequeueOneAsync("plain");

        var refused = await Record.ExceptionAsync(async () => await Store.AcknowledgeManyAsync([Ack(head, AckOutcome.Failed, Error(head.Attempt))], Ct));

        Assert.NotNull(refused);
        Assert.IsNotType<JobStoreUnavailableException>(refused);
        Assert.Equal(JobState.Active, (await GetAsync(first)).State);
        Assert.Equal(JobState.Waiting, (await GetAsync(previous)).State);
        Assert.True(await AckAsync(Ack(other, AckOutcome.Succeeded)));
        Assert.Equal(JobState.Succeeded, (await GetAsync(plain)).State);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }
}
