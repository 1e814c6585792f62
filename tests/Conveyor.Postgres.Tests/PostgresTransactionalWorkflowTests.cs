using Conveyor.Storage;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// Batches and workflows started inside the application's own transaction: they exist if and only if it commits, and
/// a refusal leaves the transaction usable for the rest of the application's work.
/// </summary>
public sealed class PostgresTransactionalWorkflowTests : PostgresStoreTestBase
{
    [PostgresFact]
    public async Task Batch_Committed_ItsMembersRun_AndItsCallbackIsReleasedByTheLast()
    {
        var members = new[] { TestJobs.New(), TestJobs.New() };
        var onSuccess = TestJobs.New();
        BatchEnqueueResult started;
        await using (var connection = await Schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            started = await connection.StartBatchAsync(transaction, Store, members, new BatchOptions { OnSuccess = onSuccess });
            Assert.True(started.Jobs.AllStored);
            Assert.Null(await Store.GetBatchAsync(started.BatchId, TenantId.Default, CancellationToken.None));
            await transaction.CommitAsync();
        }

        var batch = (await Store.GetBatchAsync(started.BatchId, TenantId.Default, CancellationToken.None))!;
        Assert.Equal((BatchState.Running, 2), (batch.State, batch.Total));
        var leased = await Store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None);
        Assert.Equal(members.Select(static m => m.Id).Order(StringComparer.Ordinal), leased.Select(static j => j.Id).Order(StringComparer.Ordinal));
        Assert.Equal(JobState.Waiting, (await Store.GetAsync(TenantId.Default, onSuccess.Id, CancellationToken.None))!.State);

        await Store.AcknowledgeManyAsync([.. leased.Select(static j => new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Succeeded })], CancellationToken.None);

        Assert.Equal(JobState.Pending, (await Store.GetAsync(TenantId.Default, onSuccess.Id, CancellationToken.None))!.State);
        Assert.Equal(BatchState.Succeeded, (await Store.GetBatchAsync(started.BatchId, TenantId.Default, CancellationToken.None))!.State);
    }

    [PostgresFact]
    public async Task Batch_RolledBack_LeavesNoBatchAndNoJob()
    {
        var member = TestJobs.New();
        BatchEnqueueResult started;
        await using (var connection = await Schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            started = await connection.StartBatchAsync(transaction, Store, [member]);
            await transaction.RollbackAsync();
        }

        Assert.Null(await Store.GetBatchAsync(started.BatchId, TenantId.Default, CancellationToken.None));
        Assert.Null(await Store.GetAsync(TenantId.Default, member.Id, CancellationToken.None));
    }

    [PostgresFact]
    public async Task Workflow_Committed_ItsFirstStepRuns_ItsNextWaits_AndRolledBackNothingIsStored()
    {
        var workflow = new WorkflowBuilder("report").Add("extract", TestJobs.New()).Add("publish", TestJobs.New(), after: ["extract"]);
        WorkflowEnqueueResult committed;
        await using (var connection = await Schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            committed = await connection.StartWorkflowAsync(transaction, Store, workflow);
            await transaction.CommitAsync();
        }

        Assert.Equal(JobState.Pending, (await Store.GetAsync(TenantId.Default, committed.StepJobIds["extract"], CancellationToken.None))!.State);
        Assert.Equal(JobState.Waiting, (await Store.GetAsync(TenantId.Default, committed.StepJobIds["publish"], CancellationToken.None))!.State);

        var again = new WorkflowBuilder("report").Add("extract", TestJobs.New()).Add("publish", TestJobs.New(), after: ["extract"]);
        WorkflowEnqueueResult rolledBack;
        await using (var connection = await Schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            rolledBack = await connection.StartWorkflowAsync(transaction, Store, again);
            await transaction.RollbackAsync();
        }

        Assert.Null(await Store.GetBatchAsync(rolledBack.WorkflowId, TenantId.Default, CancellationToken.None));
        foreach (var id in rolledBack.StepJobIds.Values)
        {
            Assert.Null(await Store.GetAsync(TenantId.Default, id, CancellationToken.None));
        }
    }

    [PostgresFact]
    public async Task Batch_WhoseIdIsTaken_IsRefused_AndTheTransactionGoesOn()
    {
        var batchId = BatchId.New();
        await using (var connection = await Schema.OpenConnectionAsync())
        {
            await connection.StartBatchAsync(null, Store, [TestJobs.New()], new BatchOptions { BatchId = batchId });
        }

        var later = TestJobs.New();
        await using (var connection = await Schema.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Assert.ThrowsAsync<ArgumentException>(() => connection.StartBatchAsync(transaction, Store, [TestJobs.New()], new BatchOptions { BatchId = batchId }));
            Assert.Equal(EnqueueOutcome.Enqueued, (await Store.EnqueueAsync(connection, transaction, later)).Outcome);
            await transaction.CommitAsync();
        }

        Assert.NotNull(await Store.GetAsync(TenantId.Default, later.Id, CancellationToken.None));
        Assert.Equal(1, (await Store.GetBatchAsync(batchId, TenantId.Default, CancellationToken.None))!.Total);
    }

    [PostgresFact]
    public async Task AWaitingJob_EnqueuedOnAConnectionWithoutATransaction_IsStoredAndLinkedTogether_OrNotAtAll()
    {
        var dependency = TestJobs.New();
        await Store.EnqueueManyAsync([dependency], CancellationToken.None);
        var waiting = TestJobs.New() with { DependsOn = [new JobDependency(dependency.Id, SuccessOnly: true)] };

        // The link waits for the dependency's row, which another transaction holds; the call is given up meanwhile.
        await using var holder = await Schema.OpenConnectionAsync();
        await using var held = await holder.BeginTransactionAsync();
        await ExecuteAsync(holder, $"""SELECT 1 FROM "{Schema.Name}".jobs WHERE id = '{dependency.Id}' FOR UPDATE""");
        await using var connection = await Schema.OpenConnectionAsync();
        using var giveUp = new CancellationTokenSource();
        var enqueue = Task.Run(async () => await connection.EnqueueJobAsync(null, Store, waiting, giveUp.Token));
        await TestWait.UntilAsync(
            async () => await Schema.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> {holder.ProcessID} AND query LIKE '%{Schema.Name}%'") > 0,
            because: "the enqueue to wait for the dependency's row");
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(async () => await enqueue);
        await held.CommitAsync();

        // Not a job left waiting for nothing: the insert went with the link.
        Assert.Null(await Store.GetAsync(TenantId.Default, waiting.Id, CancellationToken.None));
    }

    [PostgresFact]
    public async Task AWaitingJob_EnqueuedOnAConnectionWhoseTransactionWasNotPassed_CommitsWithThatTransaction()
    {
        var dependency = TestJobs.New();
        await Store.EnqueueManyAsync([dependency], CancellationToken.None);
        var waiting = TestJobs.New() with { DependsOn = [new JobDependency(dependency.Id, SuccessOnly: true)] };
        await using var connection = await Schema.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        Assert.Equal(EnqueueOutcome.Enqueued, (await connection.EnqueueJobAsync(null, Store, waiting)).Outcome);
        await transaction.RollbackAsync();

        Assert.Null(await Store.GetAsync(TenantId.Default, waiting.Id, CancellationToken.None));
    }
}
