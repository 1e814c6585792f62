using Conveyor.Storage;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// Batches and workflows started inside the application's own transaction: they exist if and only if it commits, and
/// a refusal leaves the transaction usable for the rest of the application's work.
/// </summary>
public sealed class PostgresTransactionalWorkflowTests : IAsyncLifetime
{
    private readonly PostgresTestSchema _schema = new();
    private readonly FakeTimeProvider _time = new(TestJobs.StartTime);
    private PostgresJobStore _store = null!;

    public async Task InitializeAsync()
    {
        if (PostgresTestServer.UnavailableReason is null || PostgresTestServer.IsCi)
        {
            _store = await _schema.CreateInitializedStoreAsync(_time);
        }
    }

    public async Task DisposeAsync() => await _schema.DisposeAsync();

    [PostgresFact]
    public async Task Batch_Committed_ItsMembersRun_AndItsCallbackIsReleasedByTheLast()
    {
        var members = new[] { TestJobs.New(), TestJobs.New() };
        var onSuccess = TestJobs.New();
        BatchEnqueueResult started;
        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            started = await connection.StartBatchAsync(transaction, _store, members, new BatchOptions { OnSuccess = onSuccess });
            Assert.True(started.Jobs.AllStored);
            Assert.Null(await _store.GetBatchAsync(started.BatchId, TenantId.Default, CancellationToken.None));
            await transaction.CommitAsync();
        }

        var batch = (await _store.GetBatchAsync(started.BatchId, TenantId.Default, CancellationToken.None))!;
        Assert.Equal((BatchState.Running, 2), (batch.State, batch.Total));
        var leased = await _store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None);
        Assert.Equal(members.Select(static m => m.Id).Order(StringComparer.Ordinal), leased.Select(static j => j.Id).Order(StringComparer.Ordinal));
        Assert.Equal(JobState.Waiting, (await _store.GetAsync(TenantId.Default, onSuccess.Id, CancellationToken.None))!.State);

        await _store.AcknowledgeManyAsync([.. leased.Select(static j => new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Succeeded })], CancellationToken.None);

        Assert.Equal(JobState.Pending, (await _store.GetAsync(TenantId.Default, onSuccess.Id, CancellationToken.None))!.State);
        Assert.Equal(BatchState.Succeeded, (await _store.GetBatchAsync(started.BatchId, TenantId.Default, CancellationToken.None))!.State);
    }

    [PostgresFact]
    public async Task Batch_RolledBack_LeavesNoBatchAndNoJob()
    {
        var member = TestJobs.New();
        BatchEnqueueResult started;
        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            started = await connection.StartBatchAsync(transaction, _store, [member]);
            await transaction.RollbackAsync();
        }

        Assert.Null(await _store.GetBatchAsync(started.BatchId, TenantId.Default, CancellationToken.None));
        Assert.Null(await _store.GetAsync(TenantId.Default, member.Id, CancellationToken.None));
    }

    [PostgresFact]
    public async Task Workflow_Committed_ItsFirstStepRuns_ItsNextWaits_AndRolledBackNothingIsStored()
    {
        var workflow = new WorkflowBuilder("report").Add("extract", TestJobs.New()).Add("publish", TestJobs.New(), after: ["extract"]);
        WorkflowEnqueueResult committed;
        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            committed = await connection.StartWorkflowAsync(transaction, _store, workflow);
            await transaction.CommitAsync();
        }

        Assert.Equal(JobState.Pending, (await _store.GetAsync(TenantId.Default, committed.StepJobIds["extract"], CancellationToken.None))!.State);
        Assert.Equal(JobState.Waiting, (await _store.GetAsync(TenantId.Default, committed.StepJobIds["publish"], CancellationToken.None))!.State);

        var again = new WorkflowBuilder("report").Add("extract", TestJobs.New()).Add("publish", TestJobs.New(), after: ["extract"]);
        WorkflowEnqueueResult rolledBack;
        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            rolledBack = await connection.StartWorkflowAsync(transaction, _store, again);
            await transaction.RollbackAsync();
        }

        Assert.Null(await _store.GetBatchAsync(rolledBack.WorkflowId, TenantId.Default, CancellationToken.None));
        foreach (var id in rolledBack.StepJobIds.Values)
        {
            Assert.Null(await _store.GetAsync(TenantId.Default, id, CancellationToken.None));
        }
    }

    [PostgresFact]
    public async Task Batch_WhoseIdIsTaken_IsRefused_AndTheTransactionGoesOn()
    {
        var batchId = BatchId.New();
        await using (var connection = await _schema.OpenConnectionAsync())
        {
            await connection.StartBatchAsync(null, _store, [TestJobs.New()], new BatchOptions { BatchId = batchId });
        }

        var later = TestJobs.New();
        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Assert.ThrowsAsync<ArgumentException>(() => connection.StartBatchAsync(transaction, _store, [TestJobs.New()], new BatchOptions { BatchId = batchId }));
            Assert.Equal(EnqueueOutcome.Enqueued, (await _store.EnqueueAsync(connection, transaction, later)).Outcome);
            await transaction.CommitAsync();
        }

        Assert.NotNull(await _store.GetAsync(TenantId.Default, later.Id, CancellationToken.None));
        Assert.Equal(1, (await _store.GetBatchAsync(batchId, TenantId.Default, CancellationToken.None))!.Total);
    }
}
