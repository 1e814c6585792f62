using System.Collections.Concurrent;
using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres.Tests;

/// <summary>What only the PostgreSQL store does, or what needs several store instances (processes) on one schema.</summary>
public sealed class PostgresJobStoreTests : IAsyncLifetime
{
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(10);
    private readonly PostgresTestSchema _schema = new();
    private readonly FakeTimeProvider _time = new(TestJobs.StartTime);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _schema.DisposeAsync();

    [PostgresFact]
    public async Task SchemaDroppedUnderARunningStore_IsUnavailable_SayingTheSchemaIsMissing()
    {
        var store = await _schema.CreateInitializedStoreAsync(_time);
        await store.EnqueueAsync(TestJobs.New("job_before"), CancellationToken.None);

        // As when the database is dropped and created again while the application runs.
        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var drop = new NpgsqlCommand($"DROP SCHEMA \"{_schema.Name}\" CASCADE", connection))
        {
            await drop.ExecuteNonQueryAsync();
        }

        var read = await Assert.ThrowsAsync<JobStoreUnavailableException>(() => store.GetAsync(TenantId.Default, "job_before", CancellationToken.None).AsTask());
        var write = await Assert.ThrowsAsync<JobStoreUnavailableException>(() => store.EnqueueAsync(TestJobs.New(), CancellationToken.None).AsTask());
        var dequeue = await Assert.ThrowsAsync<JobStoreUnavailableException>(() => store.DequeueAsync(TestJobs.Dequeue(1), CancellationToken.None).AsTask());

        foreach (var refused in (JobStoreUnavailableException[])[read, write, dequeue])
        {
            Assert.StartsWith("The Conveyor schema is missing from the database", refused.Message, StringComparison.Ordinal);
        }
    }

    [PostgresFact]
    public async Task Initialize_OnADatabaseThatDoesNotExist_FailsNamingTheSettingToFix()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresTestServer.RequireConnectionString()) { Database = "conveyor_no_such_database" }.ConnectionString;
        await using var store = new PostgresJobStore(new PostgresStoreOptions { ConnectionString = connectionString, Schema = _schema.Name }, _time);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.InitializeAsync(CancellationToken.None).AsTask());

        Assert.StartsWith("PostgreSQL refused the connection (3D000: database \"conveyor_no_such_database\" does not exist)", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("check Database=, Username= and Password= (and SSL Mode=) in Conveyor:Postgres:ConnectionString, and the server's pg_hba.conf for this host.", error.Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task Dequeue_TwoStoresRacingOverOneQueue_NeverLeaseOneJobTwice()
    {
        var a = await _schema.CreateInitializedStoreAsync(_time);
        var b = await _schema.CreateInitializedStoreAsync(_time);
        const int count = 2000;
        await a.EnqueueManyAsync(Enumerable.Range(0, count).Select(_ => TestJobs.New()).ToArray(), CancellationToken.None);

        var leases = new ConcurrentBag<string>();
        async Task DrainAsync(PostgresJobStore store, string serverId)
        {
            while (true)
            {
                var jobs = await store.DequeueAsync(TestJobs.Dequeue(7, serverId), CancellationToken.None);
                if (jobs.Count == 0)
                {
                    return;
                }

                foreach (var job in jobs)
                {
                    leases.Add(job.Id);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => DrainAsync(i % 2 == 0 ? a : b, $"server-{i}"))));

        Assert.Equal(count, leases.Count);
        Assert.Equal(count, leases.Distinct(StringComparer.Ordinal).Count());
    }

    [PostgresFact]
    public async Task WaitForJobs_EnqueueByAnotherStore_WakesTheWaiterThroughNotify()
    {
        var producer = await _schema.CreateInitializedStoreAsync(_time);
        var worker = await _schema.CreateInitializedStoreAsync(_time);
        // The timeout runs on the fake clock, which never moves here: only the NOTIFY can end the wait.
        var wait = worker.WaitForJobsAsync(LongWait, CancellationToken.None).AsTask();

        await producer.EnqueueAsync(TestJobs.New(), CancellationToken.None);

        Assert.True(await TestWait.CompletesAsync(wait, "a NOTIFY from another store did not wake the waiter"));
    }

    [PostgresFact]
    public async Task WaitForJobs_NoSignal_EndsWithFalseWhenTheFakeClockPassesTheTimeout()
    {
        var worker = await _schema.CreateInitializedStoreAsync(_time);
        var wait = worker.WaitForJobsAsync(TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        await TestWait.AssertStillRunningAsync(wait, TimeSpan.FromMilliseconds(100), "the timeout must be measured on the store's clock");

        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.False(await TestWait.CompletesAsync(wait, "the wait did not time out on the fake clock"));
    }

    [PostgresFact]
    public async Task Cancel_ActiveJob_ReachesTheSubscriberOfTheStoreThatRunsIt()
    {
        var api = await _schema.CreateInitializedStoreAsync(_time);
        var worker = await _schema.CreateInitializedStoreAsync(_time);
        var job = TestJobs.New();
        await api.EnqueueAsync(job, CancellationToken.None);
        var leased = Assert.Single(await worker.DequeueAsync(TestJobs.Dequeue(1), CancellationToken.None));
        var heard = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = worker.SubscribeToCancellations(id => heard.TrySetResult(id));

        Assert.Equal(JobCommandResult.Requested, await api.CancelAsync(job.Tenant, job.Id, CancellationToken.None));

        Assert.Equal(job.Id, await TestWait.CompletesAsync(heard.Task, "the cancellation did not reach the worker's store"));
        var extension = await worker.ExtendLeasesAsync(
            new ExtendLeasesRequest { ServerId = "server-a", Leases = [new LeaseRef(leased.Id, leased.LeaseToken)], LeaseDuration = TimeSpan.FromSeconds(30) },
            CancellationToken.None);
        Assert.Equal([job.Id], extension.CancelRequested);
        Assert.Empty(extension.Lost);
    }

    [PostgresFact]
    public async Task SubscribeToCancellations_Disposed_HearsNothingMore()
    {
        var store = await _schema.CreateInitializedStoreAsync(_time);
        var heard = new ConcurrentQueue<string>();
        var subscription = store.SubscribeToCancellations(heard.Enqueue);
        var first = TestJobs.New();
        var second = TestJobs.New();
        await store.EnqueueManyAsync([first, second], CancellationToken.None);
        await store.DequeueAsync(TestJobs.Dequeue(2), CancellationToken.None);
        await store.CancelAsync(first.Tenant, first.Id, CancellationToken.None);
        await TestWait.UntilAsync(() => heard.Contains(first.Id));

        subscription.Dispose();
        // A third subscriber proves the NOTIFY for the second job has been delivered by the time we look.
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var witness = store.SubscribeToCancellations(id =>
        {
            if (id == second.Id)
            {
                delivered.TrySetResult();
            }
        });
        await store.CancelAsync(second.Tenant, second.Id, CancellationToken.None);
        await TestWait.CompletesAsync(delivered.Task.ContinueWith(static _ => true, TaskScheduler.Default), "the second cancellation was not delivered");
        Assert.DoesNotContain(second.Id, heard);
    }

    [PostgresFact]
    public async Task Dequeue_WithManyFinishedJobsKept_UsesThePendingIndexOnly()
    {
        // The cost of a dequeue must not grow with the finished jobs the table keeps: the partial index holds
        // pending jobs only. Checked on the plan, with statistics, after 20,000 finished rows.
        var store = await _schema.CreateInitializedStoreAsync(_time);
        await using (var connection = await _schema.OpenConnectionAsync())
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"""
                INSERT INTO "{_schema.Name}".jobs (id, tenant, type, queue, state, payload, max_retry, retention, created_at, updated_at,
                    completed_at, expires_at)
                SELECT 'done-' || g, 'default', 'test:run', 'default', 'succeeded', '\x7b7d', 3, '1 day', now(), now(), now(), now() + interval '1 day'
                FROM generate_series(1, 20000) g;
                ANALYZE "{_schema.Name}".jobs;
                """;
            await command.ExecuteNonQueryAsync();
        }

        await store.EnqueueAsync(TestJobs.New(), CancellationToken.None);

        await using var explainConnection = await _schema.OpenConnectionAsync();
        await using var explain = explainConnection.CreateCommand();
        explain.CommandText = $"""
            EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT)
            SELECT j.id FROM "{_schema.Name}".jobs j WHERE j.state = 'pending' AND j.queue = 'default'
            ORDER BY j.enqueued_at, j.seq LIMIT 10 FOR UPDATE SKIP LOCKED
            """;
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        var text = string.Join('\n', plan);
        Assert.Contains("jobs_pending_idx", text, StringComparison.Ordinal);
        Assert.Single(await store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None));
    }

    [PostgresFact]
    public async Task Acknowledgement_PlannedOnStatisticsThatSawNoActiveJob_FindsEachJobByKey()
    {
        // The acknowledgement's plan is made once (AcknowledgementPlan) and kept until the next ANALYZE. Statistics taken
        // while no job ran say one job is active, so walking the small partial index of active jobs looked cheaper than a
        // probe of the primary key per acknowledgement: every acknowledgement then read every running job (100 running
        // jobs, 20 acknowledged: 2,000 comparisons, 0.6 ms of a 1.1 ms statement). Checked on that plan, with 60 running.
        var store = await _schema.CreateInitializedStoreAsync(_time);
        await using var connection = await _schema.OpenConnectionAsync();
        await using (var fill = connection.CreateCommand())
        {
            fill.CommandText = $"""
                INSERT INTO "{_schema.Name}".jobs (id, tenant, type, queue, state, payload, max_retry, retention, created_at, updated_at,
                    completed_at, expires_at)
                SELECT 'done-' || g, 'default', 'test:run', 'default', 'succeeded', '\x7b7d', 3, '1 day', now(), now(), now(), now() + interval '1 day'
                FROM generate_series(1, 20000) g;
                ANALYZE "{_schema.Name}".jobs;
                """;
            await fill.ExecuteNonQueryAsync();
        }

        await store.EnqueueManyAsync(Enumerable.Range(0, 60).Select(_ => TestJobs.New()).ToList(), CancellationToken.None);
        var leased = await store.DequeueAsync(TestJobs.Dequeue(60), CancellationToken.None);
        Assert.Equal(60, leased.Count);

        var acknowledged = leased.Take(20).ToList();
        var ids = string.Join(", ", acknowledged.Select(j => $"'{j.Id}'"));
        var tokens = string.Join(", ", acknowledged.Select(j => j.LeaseToken));
        await using var transaction = await connection.BeginTransactionAsync();
        await using var explain = connection.CreateCommand();
        explain.CommandText = $"""
            SELECT {PostgresJobStore.AcknowledgementPlan};
            PREPARE acknowledge (text[], bigint[], int[], timestamptz[], jsonb[], bytea[], text[], timestamptz, text, text[], text, text[]) AS
            {PostgresSchemaName.Substitute(PostgresJobStore.AcknowledgeTemplate, _schema.Name)};
            EXPLAIN (ANALYZE, COSTS OFF) EXECUTE acknowledge(ARRAY[{ids}], ARRAY[{tokens}]::bigint[], array_fill(0, ARRAY[20]),
                array_fill(NULL::timestamptz, ARRAY[20]), array_fill('[]'::jsonb, ARRAY[20]), array_fill(NULL::bytea, ARRAY[20]),
                array_fill(NULL::text, ARRAY[20]), now(), 'channel', array_fill(NULL::text, ARRAY[20]), '', ARRAY[]::text[]);
            """;
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            do
            {
                while (await reader.ReadAsync())
                {
                    plan.Add(reader.GetValue(0).ToString() ?? "");
                }
            }
            while (await reader.NextResultAsync());
        }

        await transaction.RollbackAsync();
        var text = string.Join('\n', plan);
        // Each job is found by its key: no index walked whole with the jobs filtered against the acknowledgements.
        Assert.False(text.Contains("Rows Removed by Join Filter", StringComparison.Ordinal), text);
        Assert.Equal(2, text.Split("Index Cond: (id = ").Length - 1);
        Assert.Equal(20, await store.AcknowledgeManyAsync(acknowledged.Select(TestJobs.Succeeded).ToList(), CancellationToken.None));
    }

    [PostgresTheory]
    [InlineData("CASE WHEN g % 2 = 0 THEN 'default' ELSE 'globex' END")]
    [InlineData("CASE WHEN g > 10000 THEN 'default' ELSE 'globex' END")]
    public async Task BatchListings_ReadAKeysetInPageOrder_NeverScanOrSortTheBatchesTable(string tenantOfBatch)
    {
        // A page must cost its rows however many batches the retention keeps: 20,000 batches of two tenants, most of
        // them finished, with statistics; the listing's own statements (workflows only, the costlier filter) explained.
        // The tenants' batches are mixed in time, or bunched (every batch of 'default' older than every one of
        // 'globex'): a one-tenant page walking every tenant's index would then read all of globex's first.
        await _schema.CreateInitializedStoreAsync(_time);
        await using var connection = await _schema.OpenConnectionAsync();
        await using (var fill = connection.CreateCommand())
        {
            fill.CommandText = $"""
                INSERT INTO "{_schema.Name}".batches (id, tenant, state, total, retention, created_at, updated_at, workflow)
                SELECT 'batch-' || g, {tenantOfBatch},
                       CASE WHEN g % 50 = 0 THEN 'running' ELSE 'succeeded' END, 10, '1 day',
                       now() - g * interval '1 second', now(), CASE WHEN g % 3 = 0 THEN 'a definition' END
                FROM generate_series(1, 20000) g;
                ANALYZE "{_schema.Name}".batches;
                """;
            await fill.ExecuteNonQueryAsync();
        }

        var shapes = from oneTenant in new[] { true, false } from byState in new[] { false, true } from afterCursor in new[] { false, true } select (oneTenant, byState, afterCursor);
        foreach (var (oneTenant, byState, afterCursor) in shapes)
        {
            await using var explain = connection.CreateCommand();
            explain.CommandText = "EXPLAIN " + PostgresJobStore.ListBatchesSql(_schema.Name, oneTenant, byState, workflowsOnly: true, afterCursor);
            if (oneTenant)
            {
                explain.Parameters.AddWithValue("default");
            }

            if (byState)
            {
                // The state most batches are in: the planner may read a rare one (running) with a bitmap scan and
                // sort its few rows, which costs those rows only.
                explain.Parameters.AddWithValue("succeeded");
            }

            if (afterCursor)
            {
                explain.Parameters.AddWithValue(DateTimeOffset.UtcNow.AddHours(-1));
                explain.Parameters.AddWithValue("batch-7000");
            }

            explain.Parameters.AddWithValue(51);
            var plan = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    plan.Add(reader.GetString(0));
                }
            }

            var text = $"one tenant {oneTenant}, by state {byState}, after a cursor {afterCursor}:\n" + string.Join('\n', plan);
            // One of the indexes in page order: a tenant's for a tenant's page (migration 0030; for the common state
            // the planner may prefer the tenant's and skip the few rows in other states), every tenant's for an
            // operator's (0031), never the other kind.
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(text, oneTenant ? "batches_tenant_(state_)?created_idx" : "batches_every_tenant_(state_)?created_idx"), text);
            Assert.False(text.Contains("Seq Scan", StringComparison.Ordinal) || text.Contains("Sort", StringComparison.Ordinal), text);
        }
    }

    [PostgresFact]
    public async Task RelaxedWorkerCommits_HotPathStillWorks_AndTheSettingDoesNotLeakToOtherStatements()
    {
        var store = await _schema.CreateInitializedStoreAsync(_time, o =>
        {
            o.RelaxedWorkerCommits = true;
            // The listener's connection and one for every call; a session default the store must leave alone.
            o.ConnectionString += ";Maximum Pool Size=2;Options=-c synchronous_commit=local";
        });
        var job = TestJobs.New();
        await store.EnqueueAsync(job, CancellationToken.None);

        var leased = Assert.Single(await store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None));
        Assert.True(await store.ReportProgressAsync(leased.Id, leased.LeaseToken, 50, CancellationToken.None));
        Assert.Equal(1, await store.AcknowledgeManyAsync([TestJobs.Succeeded(leased)], CancellationToken.None));

        Assert.Equal(JobState.Succeeded, (await store.GetAsync(job.Tenant, job.Id, CancellationToken.None))!.State);
        await using var command = store.DataSource.CreateCommand("SELECT current_setting('synchronous_commit')");
        Assert.Equal("local", await command.ExecuteScalarAsync());
    }

    [PostgresFact]
    public async Task Dequeue_RelaxesOnlyItsOwnCommit_TheSessionSettingStaysForOtherStatements()
    {
        var store = await _schema.CreateInitializedStoreAsync(_time, o =>
            // The listener's connection and one for every call, so the dequeue's connection is the one checked.
            o.ConnectionString += ";Maximum Pool Size=2;Options=-c synchronous_commit=local");
        await store.EnqueueAsync(TestJobs.New(), CancellationToken.None);
        await store.EnqueueAsync(TestJobs.New() with { Queue = "other" }, CancellationToken.None);

        Assert.Single(await store.DequeueAsync(TestJobs.Dequeue(10), CancellationToken.None));
        Assert.Single(await store.DequeueAsync(TestJobs.Dequeue(10) with { Queues = [new QueueQuota(QueueName.Default, 5), new QueueQuota("other", 5)] }, CancellationToken.None));

        await using var command = store.DataSource.CreateCommand("SELECT current_setting('synchronous_commit')");
        Assert.Equal("local", await command.ExecuteScalarAsync());
    }

    [PostgresFact]
    public async Task EnqueueMany_InterleavedJobsOfDifferentShapes_EachStoredWithItsOwnColumns()
    {
        var store = await _schema.CreateInitializedStoreAsync(_time);
        NewJob Job(int i) => TestJobs.New() with
        {
            Type = "type-" + (i % 2),
            Queue = "queue-" + (i % 3),
            Tenant = "tenant-" + (i % 2),
            MaxRetry = i,
            Timeout = i % 2 == 0 ? null : TimeSpan.FromSeconds(i),
            ProcessAt = i == 4 ? _time.GetUtcNow().AddHours(1) : null,
            UniqueKey = i == 5 ? "key" : null,
            UniqueUntil = i == 5 ? _time.GetUtcNow().AddHours(1) : null,
            Retention = TimeSpan.FromHours(i + 1),
            TraceParent = i % 2 == 0 ? null : "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0" + i,
            Payload = new[] { (byte)i },
        };
        var jobs = Enumerable.Range(0, 6).Select(Job).ToArray();

        var results = await store.EnqueueManyAsync(jobs, CancellationToken.None);

        Assert.All(results, r => Assert.Equal(EnqueueOutcome.Enqueued, r.Outcome));
        foreach (var job in jobs)
        {
            var info = (await store.GetAsync(job.Tenant, job.Id, CancellationToken.None))!;
            Assert.Equal((job.Type, job.Queue, job.MaxRetry, job.Timeout, job.UniqueKey, job.Retention, job.TraceParent),
                (info.Type, info.Queue, info.MaxRetry, info.Timeout, info.UniqueKey, info.Retention, info.TraceParent));
            Assert.Equal(job.Payload.ToArray(), info.Payload.ToArray());
            Assert.Equal(job.ProcessAt is null ? JobState.Pending : JobState.Scheduled, info.State);
        }
    }

    [PostgresFact]
    public async Task Notifications_EchoOfOwnEnqueueIsSkipped_AnotherStoresEnqueueWakes()
    {
        var store = await _schema.CreateInitializedStoreAsync(_time);
        var sibling = await _schema.CreateInitializedStoreAsync(_time);

        await store.EnqueueAsync(TestJobs.New(), CancellationToken.None);
        await sibling.EnqueueAsync(TestJobs.New(), CancellationToken.None);

        // Both notifications reach the listener, in commit order: the store's own echo, then the sibling's.
        await TestWait.UntilAsync(() => store.Notifier.Wakes + store.Notifier.EchoesSkipped == 2);
        Assert.Equal((1, 1), (store.Notifier.Wakes, store.Notifier.EchoesSkipped));
    }

    [PostgresFact]
    public async Task Notifications_EnqueueInCallersTransaction_WakesItsOwnStoreThroughTheNotify()
    {
        var store = await _schema.CreateInitializedStoreAsync(_time);
        await using var connection = await _schema.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await store.EnqueueAsync(connection, transaction, TestJobs.New(), CancellationToken.None);
        var wait = store.WaitForJobsAsync(LongWait, CancellationToken.None).AsTask();

        await transaction.CommitAsync();

        Assert.True(await TestWait.CompletesAsync(wait, "the commit's NOTIFY wakes the store that enqueued"));
        Assert.Equal((1, 0), (store.Notifier.Wakes, store.Notifier.EchoesSkipped));
    }

    [PostgresFact]
    public async Task Notifications_EnqueueInAmbientTransactionScope_WakesItsOwnStoreAtTheCommit()
    {
        var store = await _schema.CreateInitializedStoreAsync(_time);
        using (var scope = new System.Transactions.TransactionScope(System.Transactions.TransactionScopeAsyncFlowOption.Enabled))
        {
            await store.EnqueueAsync(TestJobs.New(), CancellationToken.None);
            scope.Complete();
        }

        // The enlisted insert committed with the scope: the wake-up must come from its NOTIFY, not be skipped as an echo.
        await TestWait.UntilAsync(() => store.Notifier.Wakes + store.Notifier.EchoesSkipped == 1);
        Assert.Equal((1, 0), (store.Notifier.Wakes, store.Notifier.EchoesSkipped));
    }

    [PostgresFact]
    public async Task Requeue_FailedJobWhoseKeyAnotherJobTookMeanwhile_RunsWithoutTakingTheKey()
    {
        var store = await _schema.CreateInitializedStoreAsync(_time);
        NewJob Keyed() => TestJobs.New() with { UniqueKey = "k", UniqueUntil = _time.GetUtcNow().AddDays(1) };
        var first = Keyed();
        await store.EnqueueAsync(first, CancellationToken.None);
        var leased = Assert.Single(await store.DequeueAsync(TestJobs.Dequeue(1), CancellationToken.None));
        await store.AcknowledgeManyAsync([TestJobs.Succeeded(leased) with { Outcome = AckOutcome.Failed }], CancellationToken.None);
        var second = Keyed();
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(second, CancellationToken.None)).Outcome);

        Assert.Equal(JobCommandResult.Done, await store.RequeueAsync(first.Tenant, first.Id, CancellationToken.None));

        Assert.Equal(JobState.Pending, (await store.GetAsync(first.Tenant, first.Id, CancellationToken.None))!.State);
        var third = await store.EnqueueAsync(Keyed(), CancellationToken.None);
        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, third.Outcome);
        Assert.Equal(second.Id, third.JobId);
    }
}
