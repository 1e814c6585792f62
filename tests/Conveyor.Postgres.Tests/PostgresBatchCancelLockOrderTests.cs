using Conveyor.Storage;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// Cancelling a batch takes its running members' rows before the batch's row, and its other members' after it, as an
/// acknowledgement does (the member it finishes, the batch it counts in, then what waited for the member): taken the
/// batch first, a cancel racing the batch's last acknowledgements deadlocked with them and answered a store fault; taken
/// every member first, it deadlocked with a workflow step's acknowledgement over the step after it. Commands on
/// members (delete, cancel, requeue) lock them before their batch: they take turns with the cancel instead. And a job that joins the batch while the cancel waits for the
/// batch's row is cancelled with the others, by the cancel's own commit: the cancel waits for the add before its
/// statement takes its snapshot.
/// </summary>
public sealed class PostgresBatchCancelLockOrderTests : PostgresStoreTestBase
{
    [PostgresFact]
    public async Task ACancelWaitingForTheStepAnAcknowledgementHolds_HasTakenNeitherTheBatchNorTheNextStep_AndCompletesOnceItCommits()
    {
        // A workflow's two steps: the first running, the next waiting for it, with an id that sorts before the first's (so
        // that a cancel locking every member by id would hold it while it waits for the first).
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var step = TestJobs.New(id: "step-b-" + Guid.NewGuid().ToString("N")) with { BatchId = batch.Id };
        var next = TestJobs.New(id: "step-a-" + Guid.NewGuid().ToString("N")) with { BatchId = batch.Id, DependsOn = [new JobDependency(step.Id, SuccessOnly: true)] };
        Assert.True((await Store.CreateBatchAsync(batch, [step, next], CancellationToken.None)).AllStored);
        Assert.Equal(step.Id, Assert.Single(await Store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None)).Id);

        // An acknowledgement of the step takes the step's row, then its batch's, then the next step's.
        await using var connection = await Schema.OpenConnectionAsync();
        await using var acknowledgement = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".jobs WHERE id = '{step.Id}' FOR NO KEY UPDATE""");

        var cancel = Store.CancelBatchAsync(batch.Id, TenantId.Default, CancellationToken.None).AsTask();
        await TestWait.UntilAsync(
            async () => await Schema.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%members AS%{schema}.jobs%'") > 0,
            because: "the cancel to wait for the running step's row");

        // Both are free: the cancel has taken neither (NOWAIT fails at once where it has).
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".batches WHERE id = '{batch.Id}' FOR NO KEY UPDATE NOWAIT""");
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".jobs WHERE id = '{next.Id}' FOR NO KEY UPDATE NOWAIT""");
        await acknowledgement.CommitAsync();

        Assert.True(await cancel);
        Assert.True((await Store.GetAsync(TenantId.Default, step.Id, CancellationToken.None))!.CancelRequested);
        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(TenantId.Default, next.Id, CancellationToken.None))!.State);
        Assert.Equal(BatchState.Cancelled, (await Store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.State);
    }

    [PostgresFact]
    public async Task AJobJoiningTheBatchWhileTheCancelWaitsForIt_IsCancelledToo_AndTheBatchFinishes()
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var first = TestJobs.New() with { BatchId = batch.Id };
        Assert.True((await Store.CreateBatchAsync(batch, [first], CancellationToken.None)).AllStored);

        // A job naming its batch, stored by a transaction that holds the batch's row until it commits.
        var joined = TestJobs.New() with { BatchId = batch.Id };
        await using var connection = await Schema.OpenConnectionAsync();
        await using var adding = await connection.BeginTransactionAsync();
        Assert.Equal(JobState.Pending, (await Store.EnqueueAsync(connection, adding, joined)).State);

        var cancel = Store.CancelBatchAsync(batch.Id, TenantId.Default, CancellationToken.None).AsTask();
        await UntilTheCancelWaitsForTheBatchAsync();
        await adding.CommitAsync();

        Assert.True(await cancel);
        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(TenantId.Default, joined.Id, CancellationToken.None))!.State);
        var info = (await Store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
        Assert.Equal((BatchState.Cancelled, 2, 2, 0), (info.State, info.Total, info.Cancelled, info.Unfinished));
        Assert.NotNull(info.FinishedAt);
    }

    [PostgresFact]
    public async Task AJobAddedWhileTheCancelStarts_IsCancelledWhenTheCancelCommits_NotLeftForAWorkerToStart()
    {
        // Found by an outside run (6 races in 100): an add checked that the batch still ran, the cancel took its
        // snapshot, the add committed; the cancel, which had waited for the batch's row, cancelled the batch and the
        // members of its snapshot, and committed the batch cancelled with the added job pending. A statement after it
        // cancelled that job, but a worker could start it before, and it ran to success.
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var running = TestJobs.New() with { BatchId = batch.Id };
        Assert.True((await Store.CreateBatchAsync(batch, [running], CancellationToken.None)).AllStored);
        Assert.Equal(running.Id, Assert.Single(await Store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None)).Id);

        // The add, past its check that the batch runs: it holds the batch's row until it commits.
        var added = TestJobs.New() with { BatchId = batch.Id };
        await using var addConnection = await Schema.OpenConnectionAsync();
        await using var adding = await addConnection.BeginTransactionAsync();
        await ExecuteAsync(addConnection, $"""SELECT 1 FROM "{Schema.Name}".batches WHERE id = '{batch.Id}' AND state = 'running' FOR UPDATE""");
        Assert.Equal(JobState.Pending, (await Store.EnqueueAsync(addConnection, adding, added)).State);

        var cancel = Store.CancelBatchAsync(batch.Id, TenantId.Default, CancellationToken.None).AsTask();
        await UntilTheCancelWaitsForTheBatchAsync();

        // Queued for the batch's turn behind the cancel, a session gets it as the cancel's transaction ends, before any
        // statement the cancel runs after it: what that transaction committed is seen alone.
        await using var turnConnection = await Schema.OpenConnectionAsync();
        await using var turn = await turnConnection.BeginTransactionAsync();
        var turnTaken = ExecuteAsync(turnConnection, $"SELECT pg_advisory_xact_lock(hashtextextended('conveyor.batch-cancel:{Schema.Name}:{batch.Id}', 0))");
        await UntilABatchTurnIsAwaitedAsync("the session to queue for the batch's turn behind the cancel");
        await adding.CommitAsync();
        await turnTaken;

        Assert.Equal(BatchState.Cancelled, (await Store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.State);
        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(TenantId.Default, added.Id, CancellationToken.None))!.State);
        Assert.Empty(await Store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None));

        await turn.CommitAsync();
        Assert.True(await cancel);
        Assert.True((await Store.GetAsync(TenantId.Default, running.Id, CancellationToken.None))!.CancelRequested);
        var info = (await Store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
        Assert.Equal((BatchState.Cancelled, 2, 1), (info.State, info.Total, info.Cancelled));
    }

    [PostgresFact]
    public async Task TwoCancelsOfOneBatch_TakeTurns_BeforeEitherLocksARow()
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var member = TestJobs.New() with { BatchId = batch.Id };
        Assert.True((await Store.CreateBatchAsync(batch, [member], CancellationToken.None)).AllStored);

        // Another cancel of the batch, holding its turn.
        await using var connection = await Schema.OpenConnectionAsync();
        await using var other = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock(hashtextextended('conveyor.batch-cancel:{Schema.Name}:{batch.Id}', 0))");

        var cancel = Store.CancelBatchAsync(batch.Id, TenantId.Default, CancellationToken.None).AsTask();
        await UntilABatchTurnIsAwaitedAsync("the cancel to wait for its turn");

        // It has locked nothing while it waits.
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".batches WHERE id = '{batch.Id}' FOR NO KEY UPDATE NOWAIT""");
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".jobs WHERE id = '{member.Id}' FOR NO KEY UPDATE NOWAIT""");
        await other.CommitAsync();

        Assert.True(await cancel);
        Assert.Equal(BatchState.Cancelled, (await Store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.State);
    }

    [PostgresTheory]
    [InlineData(JobBulkAction.Delete)]
    [InlineData(JobBulkAction.Cancel)]
    [InlineData(JobBulkAction.Requeue)]
    public async Task ABulkCommandOnMembersOfABatchBeingCancelled_WaitsForTheCancelsTurn_BeforeItLocksAnyRow(JobBulkAction action)
    {
        // A cancel locks the batch before its waiting members, a command the members before their batch (deleting or
        // finishing one counts in it): the command waits for the cancel to end before it locks anything, so they cannot
        // meet in a deadlock.
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var members = new[] { TestJobs.New() with { BatchId = batch.Id }, TestJobs.New() with { BatchId = batch.Id } };
        Assert.True((await Store.CreateBatchAsync(batch, members, CancellationToken.None)).AllStored);

        // A cancel of the batch, holding its turn.
        await using var connection = await Schema.OpenConnectionAsync();
        await using var cancel = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock(hashtextextended('conveyor.batch-cancel:{Schema.Name}:{batch.Id}', 0))");

        var command = Store.RunBulkAsync(action, TenantId.Default, [members[1].Id, members[0].Id], CancellationToken.None).AsTask();
        await UntilABatchTurnIsAwaitedAsync("the command to wait for the cancel's turn");

        // It has locked nothing while it waits.
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".batches WHERE id = '{batch.Id}' FOR NO KEY UPDATE NOWAIT""");
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".jobs WHERE id IN ('{members[0].Id}', '{members[1].Id}') FOR UPDATE NOWAIT""");
        await cancel.CommitAsync();

        Assert.Equal(2, (await command).Count);
    }

    [PostgresFact]
    public async Task ACommandOnOneMember_WaitsForTheCancelsTurn_ButNotForAnotherCommands()
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var members = new[] { TestJobs.New() with { BatchId = batch.Id }, TestJobs.New() with { BatchId = batch.Id } };
        Assert.True((await Store.CreateBatchAsync(batch, members, CancellationToken.None)).AllStored);
        var turn = $"hashtextextended('conveyor.batch-cancel:{Schema.Name}:{batch.Id}', 0)";
        await using var connection = await Schema.OpenConnectionAsync();

        // Another command's turn is shared.
        await using (var other = await connection.BeginTransactionAsync())
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock_shared({turn})");
            Assert.Equal(JobCommandResult.Done, await Store.DeleteAsync(TenantId.Default, members[0].Id, CancellationToken.None));
            await other.CommitAsync();
        }

        // A cancel's is not.
        await using var cancel = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({turn})");
        var command = Store.DeleteAsync(TenantId.Default, members[1].Id, CancellationToken.None).AsTask();
        await UntilABatchTurnIsAwaitedAsync("the command to wait for the cancel's turn");
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".jobs WHERE id = '{members[1].Id}' FOR UPDATE NOWAIT""");
        await cancel.CommitAsync();

        Assert.Equal(JobCommandResult.Done, await command);
    }

    [PostgresFact]
    public async Task ACancelRacingBulkDeletesOfItsMembers_EndsWithoutAFault_AndLeavesCountsThatAddUp()
    {
        // Found by a tester: the cancel locks running members, then the batch, then the others; a bulk delete locks its
        // targets by id, then their batch: the two deadlocked, and the side PostgreSQL rolled back answered a store fault.
        for (var round = 0; round < 3; round++)
        {
            var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
            var members = Enumerable.Range(0, 300).Select(_ => TestJobs.New() with { BatchId = batch.Id }).ToArray();
            Assert.True((await Store.CreateBatchAsync(batch, members, CancellationToken.None)).AllStored);
            var ids = members.Select(m => m.Id).ToArray();

            var deletes = Enumerable.Range(0, 3).Select(i => Task.Run(async () =>
                await Store.RunBulkAsync(JobBulkAction.Delete, TenantId.Default, ids.OrderBy(_ => Random.Shared.Next()).Take(150).ToArray(), CancellationToken.None))).ToArray();
            var cancel = Task.Run(async () => await Store.CancelBatchAsync(batch.Id, TenantId.Default, CancellationToken.None));

            await Task.WhenAll([.. deletes, cancel]);
            var info = (await Store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
            Assert.Equal(BatchState.Cancelled, info.State);
            Assert.Equal(info.Total, info.Succeeded + info.Failed + info.Cancelled);
        }
    }

    /// <summary>Until the cancel waits for a lock on the batch's row (not for its turn).</summary>
    private Task UntilTheCancelWaitsForTheBatchAsync() => TestWait.UntilAsync(
        async () => await Schema.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event <> 'advisory' AND query LIKE '%{schema}.batches%'") > 0,
        because: "the cancel to wait for the batch's row");

    /// <summary>Until a statement waits for a batch's turn (the advisory lock a batch's cancel takes).</summary>
    private Task UntilABatchTurnIsAwaitedAsync(string because) => TestWait.UntilAsync(
        async () => await Schema.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%conveyor.batch-cancel:%'") > 0,
        because: because);
}
