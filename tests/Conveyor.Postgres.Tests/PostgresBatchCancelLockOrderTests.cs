using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>
/// Cancelling a batch takes its unfinished members' rows before the batch's row, as an acknowledgement does (the member
/// it finishes, then the batch it counts in): taken the other way, a cancel racing the batch's last acknowledgements
/// deadlocked with them and answered a store fault. And a job that joins the batch while the cancel waits for the
/// batch's row is cancelled with the others, though the cancel's first statement could not see it.
/// </summary>
public sealed class PostgresBatchCancelLockOrderTests : IAsyncLifetime
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
    public async Task ACancelWaitingForAMemberAnAcknowledgementHolds_HasNotTakenTheBatch_AndCompletesOnceItCommits()
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var members = new[] { TestJobs.New() with { BatchId = batch.Id }, TestJobs.New() with { BatchId = batch.Id } };
        Assert.True((await _store.CreateBatchAsync(batch, members, CancellationToken.None)).AllStored);

        // An acknowledgement's first step: the member's row.
        await using var connection = await _schema.OpenConnectionAsync();
        await using var acknowledgement = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{_schema.Name}".jobs WHERE id = '{members[1].Id}' FOR NO KEY UPDATE""");

        var cancel = _store.CancelBatchAsync(batch.Id, TenantId.Default, CancellationToken.None).AsTask();
        await TestWait.UntilAsync(
            async () => await _schema.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%members AS%{schema}.jobs%'") > 0,
            because: "the cancel to wait for the member's row");

        // Its second step, the batch's row, is free: the cancel has not taken it (NOWAIT fails at once if it has).
        await ExecuteAsync(connection, $"""SELECT 1 FROM "{_schema.Name}".batches WHERE id = '{batch.Id}' FOR NO KEY UPDATE NOWAIT""");
        await acknowledgement.CommitAsync();

        Assert.True(await cancel);
        var info = (await _store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
        Assert.Equal((BatchState.Cancelled, 2), (info.State, info.Cancelled));
    }

    [PostgresFact]
    public async Task AJobJoiningTheBatchWhileTheCancelWaitsForIt_IsCancelledToo_AndTheBatchFinishes()
    {
        var batch = new NewBatch { Id = BatchId.New(), Tenant = TenantId.Default, Retention = TimeSpan.FromDays(1) };
        var first = TestJobs.New() with { BatchId = batch.Id };
        Assert.True((await _store.CreateBatchAsync(batch, [first], CancellationToken.None)).AllStored);

        // A job naming its batch, stored by a transaction that holds the batch's row until it commits.
        var joined = TestJobs.New() with { BatchId = batch.Id };
        await using var connection = await _schema.OpenConnectionAsync();
        await using var adding = await connection.BeginTransactionAsync();
        Assert.Equal(JobState.Pending, (await _store.EnqueueAsync(connection, adding, joined)).State);

        var cancel = _store.CancelBatchAsync(batch.Id, TenantId.Default, CancellationToken.None).AsTask();
        await TestWait.UntilAsync(
            async () => await _schema.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%members AS%{schema}.jobs%'") > 0,
            because: "the cancel to wait for the batch's row");
        await adding.CommitAsync();

        Assert.True(await cancel);
        Assert.Equal(JobState.Cancelled, (await _store.GetAsync(TenantId.Default, joined.Id, CancellationToken.None))!.State);
        var info = (await _store.GetBatchAsync(batch.Id, TenantId.Default, CancellationToken.None))!;
        Assert.Equal((BatchState.Cancelled, 2, 2, 0), (info.State, info.Total, info.Cancelled, info.Unfinished));
        Assert.NotNull(info.FinishedAt);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
