using System.Transactions;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// What a user's call does in one transaction of the store's own runs again when PostgreSQL rolls it back to break a
/// deadlock with an acknowledgement, rather than answer a store fault (503), as a batch's cancel and the bulk commands do.
/// A user's cancel or delete of a workflow step that waits takes the step's row, then its batch's (to count it); the
/// acknowledgement of the step before it takes that step, the batch, then the waiting step. PostgreSQL breaks the cycle by
/// rolling one side back. An enqueue of a job that waits for two steps, one of which waits for the other, locks
/// them by id, and the acknowledgement of the first takes it, then the one that waits for it.
/// </summary>
public sealed class PostgresCommandDeadlockTests : PostgresStoreTestBase
{
    protected override Action<PostgresStoreOptions> ConfigureStore => DeadlockTimeoutOfSeconds(4);

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACommandOnAWaitingStep_RolledBackForADeadlockWithThePreviousStepsAcknowledgement_RunsAgain(bool delete)
    {
        var (batch, step, next) = await StartTwoStepsAsync();

        // The acknowledgement of the step, as far as its batch: it waits longer than the command before it looks for a
        // cycle, so that PostgreSQL rolls the command back.
        await using var connection = await Schema.OpenConnectionAsync();
        await ExecuteAsync(connection, "SET deadlock_timeout = '60s'");
        await using var acknowledgement = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".jobs WHERE id = '{step.Id}' FOR NO KEY UPDATE""");
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".batches WHERE id = '{batch.Id}' FOR NO KEY UPDATE""");

        var command = delete
            ? Store.DeleteAsync(TenantId.Default, next.Id, CancellationToken.None).AsTask()
            : Store.CancelAsync(TenantId.Default, next.Id, CancellationToken.None).AsTask();
        await TestWait.UntilAsync(
            async () => await Schema.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%target AS%{schema}.jobs%'") > 0,
            because: "the command to hold the waiting step and wait for the batch's row");

        // Then the acknowledgement reaches the step that waited for its job: a cycle.
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".jobs WHERE id = '{next.Id}' FOR NO KEY UPDATE""");
        await acknowledgement.CommitAsync();

        Assert.Equal(JobCommandResult.Done, await command);
        var info = (await Store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
        Assert.Equal((2, 1), (info.Total, info.Cancelled));
        if (delete)
        {
            Assert.Null(await Store.GetAsync(TenantId.Default, next.Id, CancellationToken.None));
        }
        else
        {
            Assert.Equal(JobState.Cancelled, (await Store.GetAsync(TenantId.Default, next.Id, CancellationToken.None))!.State);
        }
    }

    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AContinuationOfTwoStepsWhereOneWaitsForTheOther_RolledBackForADeadlockWithTheFirstStepsAcknowledgement_IsStoredOnTheNextRun(bool allOrNone)
    {
        // The second step waits for the first and has an id that sorts before it, so the enqueue locks it first.
        var first = TestJobs.New(id: "step-b-" + Guid.NewGuid().ToString("N"));
        var second = TestJobs.New(id: "step-a-" + Guid.NewGuid().ToString("N")) with { DependsOn = [new JobDependency(first.Id, SuccessOnly: false)] };
        Assert.Equal(2, (await Store.EnqueueManyAsync([first, second], CancellationToken.None)).Count(r => r.Outcome == EnqueueOutcome.Enqueued));
        Assert.Equal(first.Id, Assert.Single(await Store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None)).Id);

        // The acknowledgement of the first step holds it (and waits longer than the enqueue before it looks for a cycle).
        await using var connection = await Schema.OpenConnectionAsync();
        await ExecuteAsync(connection, "SET deadlock_timeout = '60s'");
        await using var acknowledgement = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".jobs WHERE id = '{first.Id}' FOR NO KEY UPDATE""");

        var after = TestJobs.New() with { DependsOn = [new JobDependency(first.Id, SuccessOnly: false), new JobDependency(second.Id, SuccessOnly: false)] };
        var enqueue = allOrNone
            ? Task.Run(async () => (await Store.EnqueueAllOrNoneAsync([after], CancellationToken.None)).Results[0])
            : Task.Run(async () => (await Store.EnqueueManyAsync([after], CancellationToken.None))[0]);
        await TestWait.UntilAsync(
            async () => await Schema.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%{schema}.flow_link_in_order%'") > 0,
            because: "the enqueue to hold the second step and wait for the first");

        // Then the acknowledgement reaches the step that waited for its job: a cycle.
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".jobs WHERE id = '{second.Id}' FOR NO KEY UPDATE""");
        await acknowledgement.CommitAsync();

        var result = await enqueue;
        Assert.Equal((EnqueueOutcome.Enqueued, JobState.Waiting), (result.Outcome, result.State));
        Assert.Equal(JobState.Waiting, (await Store.GetAsync(TenantId.Default, after.Id, CancellationToken.None))!.State);
    }

    [PostgresFact]
    public async Task ABatchCancelInTheCallersTransactionScope_RolledBackForADeadlock_IsNotRunAgain_AndTheCallerSeesTheDeadlock()
    {
        var (batch, _, next) = await StartTwoStepsAsync();

        // A command on the waiting step holds it (and waits longer than the cancel before it looks for a cycle).
        await using var connection = await Schema.OpenConnectionAsync();
        await ExecuteAsync(connection, "SET deadlock_timeout = '60s'");
        await using var command = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".jobs WHERE id = '{next.Id}' FOR NO KEY UPDATE""");

        var cancel = CancelInTheCallersScopeAsync();
        await TestWait.UntilAsync(
            async () => await Schema.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%members AS%{schema}.jobs%'") > 0,
            because: "the cancel to hold the batch and wait for the waiting step");

        // Then the command reaches the batch: a cycle, which PostgreSQL breaks by rolling back the caller's transaction.
        var commandReachesBatch = ExecuteAsync(connection, $"""SELECT 1 FROM "{Schema.Name}".batches WHERE id = '{batch.Id}' FOR NO KEY UPDATE""");

        // Run again in that aborted transaction, the cancel would answer "current transaction is aborted" (25P02) and
        // hide why; the deadlock is the caller's to handle, since it undid the caller's whole transaction.
        var refused = Assert.IsType<JobStoreUnavailableException>(await cancel);
        Assert.Equal(PostgresErrorCodes.DeadlockDetected, Assert.IsType<PostgresException>(refused.InnerException).SqlState);
        await commandReachesBatch;

        // Nothing of the cancel stays.
        await command.RollbackAsync();
        Assert.Equal(BatchState.Running, (await Store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!.State);
        Assert.Equal(JobState.Waiting, (await Store.GetAsync(TenantId.Default, next.Id, CancellationToken.None))!.State);

        // The scope is the async method's own: the test's other sessions do not enlist in it.
        async Task<Exception?> CancelInTheCallersScopeAsync()
        {
            using var scope = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled);
            try
            {
                await Store.CancelBatchAsync(batch.Id, TenantId.Default, CancellationToken.None);
                scope.Complete();
                return null;
            }
            catch (Exception exception)
            {
                return exception;
            }
        }
    }

    /// <summary>A batch of two steps: the first running (leased), the next waiting for its success.</summary>
    private async Task<(NewBatch Batch, NewJob Step, NewJob Next)> StartTwoStepsAsync()
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var step = TestJobs.New() with { BatchId = batch.Id };
        var next = TestJobs.New() with { BatchId = batch.Id, DependsOn = [new JobDependency(step.Id, SuccessOnly: true)] };
        Assert.True((await Store.CreateBatchAsync(batch, [step, next], CancellationToken.None)).AllStored);
        Assert.Equal(step.Id, Assert.Single(await Store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None)).Id);
        return (batch, step, next);
    }
}
