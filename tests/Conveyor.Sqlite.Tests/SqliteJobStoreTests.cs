using System.Globalization;
using Conveyor.Sqlite.Internal;
using Conveyor.Storage;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Conveyor.Sqlite.Tests;

/// <summary>What only the SQLite store promises: one file, created on first use, shared, and clear failures.</summary>
public sealed class SqliteJobStoreTests : IDisposable
{
    private readonly SqliteTestDatabase _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromSeconds(60));

    private CancellationToken Ct => _guard.Token;

    public void Dispose()
    {
        _guard.Dispose();
        _database.Dispose();
    }

    [Fact]
    public async Task InitializeAsync_NewFile_CreatesTheSchemaInWalMode()
    {
        Assert.False(File.Exists(_database.Path));
        await using var sut = _database.CreateStore(_time);

        await sut.InitializeAsync(Ct);

        Assert.True(File.Exists(_database.Path));
        using var connection = OpenRaw();
        Assert.Equal((long)LatestMigrationFile(), Scalar(connection, "PRAGMA user_version;"));
        Assert.Equal(3L, Scalar(connection, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'jobs_counted_on_%';"));
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode;"));
        Assert.Equal(1L, Scalar(connection, "SELECT count(*) FROM sqlite_master WHERE name = 'jobs_pending';"));
        Assert.Equal(1L, Scalar(connection, "SELECT count(*) FROM sqlite_master WHERE name = 'idempotency_records';"));
    }

    [Fact]
    public void Migrations_AreTheEmbeddedFilesInOrderWithNoGap()
    {
        // Every migration file shipped in the assembly is applied, and the schema version is its number, so
        // a new file cannot be forgotten in the list and this file never needs a hand edit for one.
        Assert.Equal(LatestMigrationFile(), SqlText.Migrations.Count);
        Assert.Equal(SqlText.Migrations.Count, SqliteSchema.CurrentVersion);
    }

    /// <summary>The number of the newest migration embedded in Conveyor.Sqlite, checking they run 1, 2, … with no gap.</summary>
    private static int LatestMigrationFile()
    {
        var numbers = typeof(SqliteSchema).Assembly.GetManifestResourceNames()
            .Where(static name => name.StartsWith("Migrations.", StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(static name => int.Parse(name.AsSpan("Migrations.".Length, 4), CultureInfo.InvariantCulture))
            .Order()
            .ToList();
        Assert.Equal(Enumerable.Range(1, numbers.Count), numbers);
        return numbers[^1];
    }

    [Theory]
    [InlineData(false, 1L)]
    [InlineData(true, 2L)]
    public void Connections_SynchronousFollowsDurableCommits(bool durableCommits, long expected)
    {
        // 1 = NORMAL (with WAL: a power loss may roll back the last commits, never corrupt), 2 = FULL.
        using var session = SqliteSession.Open($"Data Source={_database.Path};Pooling=False", TimeSpan.FromSeconds(1), durableCommits, readOnly: false);

        Assert.Equal(expected, session.ExecuteInt64("PRAGMA synchronous;"));
        Assert.Equal(1000L, session.ExecuteInt64("PRAGMA busy_timeout;"));
    }

    [Fact]
    public async Task InMemoryDatabase_UsesOneConnectionForReadsAndWrites()
    {
        // A private in-memory database exists per connection: reads must see the writer's jobs.
        await using var sut = new SqliteJobStore(new SqliteStoreOptions { Path = ":memory:" }, _time);

        var job = TestJobs.New();
        await sut.EnqueueAsync(job, Ct);

        Assert.NotNull(await sut.GetAsync(TenantId.Default, job.Id, Ct));
        Assert.Single((await sut.ListAsync(new JobQuery { Tenant = TenantId.Default }, Ct)).Jobs);
        Assert.Equal(job.Id, Assert.Single(await sut.DequeueAsync(TestJobs.Request(10), Ct)).Id);
    }

    [Fact]
    public async Task EnqueueAsync_BeforeInitialize_CreatesTheSchemaOnFirstUse()
    {
        await using var sut = _database.CreateStore(_time);

        var result = await sut.EnqueueAsync(TestJobs.New(), Ct);

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
        Assert.NotNull(await sut.GetAsync(TenantId.Default, result.JobId, Ct));
    }

    [Fact]
    public async Task SecondInstance_SameFile_SeesTheFirstInstancesJobs()
    {
        await using var first = _database.CreateStore(_time);
        var job = TestJobs.New();
        await first.EnqueueAsync(job, Ct);

        await using var second = _database.CreateStore(_time);
        var seen = await second.GetAsync(TenantId.Default, job.Id, Ct);
        var leased = await second.DequeueAsync(TestJobs.Request(10), Ct);

        Assert.NotNull(seen);
        Assert.Equal(job.Id, Assert.Single(leased).Id);
        Assert.Equal(JobState.Active, (await first.GetAsync(TenantId.Default, job.Id, Ct))!.State);
    }

    [Fact]
    public async Task InitializeAsync_ManyInstancesOfANewFileAtOnce_CreateTheSchemaOnce()
    {
        var stores = Enumerable.Range(0, 6).Select(_ => _database.CreateStore(_time)).ToArray();
        try
        {
            await Task.WhenAll(stores.Select(s => Task.Run(async () => await s.InitializeAsync(Ct), Ct)));
            await Task.WhenAll(stores.Select(s => Task.Run(async () => await s.EnqueueAsync(TestJobs.New(), Ct), Ct)));

            var stats = await stores[0].GetQueueStatsAsync(Ct);
            Assert.Equal(6, Assert.Single(stats).Pending);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task InitializeAsync_PathIsADirectory_ThrowsForGood_NamingThePath()
    {
        var directory = Directory.CreateDirectory(_database.Path + ".dir").FullName;
        try
        {
            await using var sut = new SqliteJobStore(new SqliteStoreOptions { Path = directory }, _time);

            // Not JobStoreUnavailableException: waiting does not make a directory a file, so the server does not retry.
            var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await sut.InitializeAsync(Ct));

            Assert.Contains($"The SQLite path '{directory}' is a directory", error.Message, StringComparison.Ordinal);
            Assert.IsType<SqliteException>(error.InnerException);
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    [Fact]
    public async Task InitializeAsync_DirectoryPathThroughAFile_ThrowsForGood_NamingTheFile()
    {
        await File.WriteAllTextAsync(_database.Path, "not a directory", Ct);
        var path = Path.Combine(_database.Path, "data", "conveyor.db");
        await using var sut = new SqliteJobStore(new SqliteStoreOptions { Path = path }, _time);

        // Not JobStoreUnavailableException: waiting does not turn the file into a directory, so the server does not retry.
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await sut.InitializeAsync(Ct));

        Assert.StartsWith($"The SQLite path '{path}' cannot have its directory: '{_database.Path}' is a file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnqueueAsync_FileUnderAReadOnlyLocation_ThrowsUnavailableNamingTheFile()
    {
        // /proc refuses new files even to root, unlike a chmod-ed directory.
        var path = "/proc/conveyor-cannot-exist/conveyor.db";
        await using var sut = new SqliteJobStore(new SqliteStoreOptions { Path = path }, _time);

        var error = await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await sut.EnqueueAsync(TestJobs.New(), Ct));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitializeAsync_FileIsNotADatabase_ThrowsForGood_NamingTheFile()
    {
        await File.WriteAllTextAsync(_database.Path, new string('x', 4096), Ct);
        await using var sut = _database.CreateStore(_time);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await sut.InitializeAsync(Ct));

        Assert.Contains($"The SQLite file '{_database.Path}' is corrupt or is not a SQLite database", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnqueueAsync_AnotherConnectionHoldsTheWriteLock_ThrowsUnavailableAfterTheBusyTimeout()
    {
        await using var sut = _database.CreateStore(_time, o => o.BusyTimeout = TimeSpan.FromMilliseconds(200));
        await sut.InitializeAsync(Ct);
        using var blocker = OpenRaw();
        Execute(blocker, "BEGIN IMMEDIATE;");

        var error = await Assert.ThrowsAsync<JobStoreUnavailableException>(async () => await sut.EnqueueAsync(TestJobs.New(), Ct));

        Assert.Contains(_database.Path, error.Message, StringComparison.Ordinal);
        Assert.Contains("locked", error.Message, StringComparison.Ordinal);
        Execute(blocker, "ROLLBACK;");
        Assert.Equal(EnqueueOutcome.Enqueued, (await sut.EnqueueAsync(TestJobs.New(), Ct)).Outcome);
    }

    [Fact]
    public async Task InitializeAsync_SchemaFromANewerVersion_ThrowsForGood_SayingSo()
    {
        using (var connection = OpenRaw())
        {
            Execute(connection, "PRAGMA user_version = 99;");
        }

        await using var sut = _database.CreateStore(_time);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await sut.InitializeAsync(Ct));

        Assert.Contains("schema version 99, newer than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Path_InAMissingDirectory_CreatesTheDirectory()
    {
        var directory = _database.Path + ".d";
        var path = System.IO.Path.Combine(directory, "nested", "jobs.db");
        try
        {
            await using var sut = new SqliteJobStore(new SqliteStoreOptions { Path = path }, _time);
            await sut.InitializeAsync(Ct);

            Assert.True(File.Exists(path));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task AcknowledgeManyAsync_LongRunOfPlainSuccessesWithStaleTokens_AppliesOnlyCurrentLeases()
    {
        // Runs of plain successes take the one-statement path (AckSucceededMany.sql); it checks every token too.
        await using var sut = _database.CreateStore(_time);
        await sut.EnqueueManyAsync([.. Enumerable.Range(0, 60).Select(_ => TestJobs.New())], Ct);
        var leased = await sut.DequeueAsync(TestJobs.Request(60), Ct);
        var acks = leased.Select((job, i) => new JobAcknowledgement
        {
            JobId = job.Id,
            LeaseToken = i % 3 == 0 ? job.LeaseToken + 1_000_000 : job.LeaseToken,
            Outcome = AckOutcome.Succeeded,
        }).ToList();
        acks.Add(acks[1]);

        var applied = await sut.AcknowledgeManyAsync(acks, Ct);

        Assert.Equal(40, applied);
        for (var i = 0; i < leased.Count; i++)
        {
            var job = await sut.GetAsync(TenantId.Default, leased[i].Id, Ct);
            Assert.Equal(i % 3 == 0 ? JobState.Active : JobState.Succeeded, job!.State);
        }
    }

    /// <summary>
    /// Jobs a server did not start go back to the head of their queue in the order they had, however many
    /// acknowledgements hand them back (a server's acknowledgements are batched as they come, so its hand-backs at
    /// shutdown may be split over several); a job handed back again comes first again, under a lease token of its own
    /// each time. (PostgreSQL keeps each job's place by its enqueue time;
    /// Redis puts each acknowledgement's jobs in front of those before them.)
    /// </summary>
    [Fact]
    public async Task JobsHandedBackInSeveralAcknowledgements_ComeBackFirst_InTheOrderTheyHad()
    {
        await using var sut = _database.CreateStore(_time);
        await sut.EnqueueManyAsync([.. Enumerable.Range(0, 5).Select(_ => TestJobs.New())], Ct);
        var leased = await sut.DequeueAsync(TestJobs.Request(5), Ct);
        await sut.EnqueueManyAsync([TestJobs.New()], Ct);
        static JobAcknowledgement Release(LeasedJob job) => new() { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Released };

        Assert.Equal(1, await sut.AcknowledgeManyAsync([Release(leased[3])], Ct));
        Assert.Equal(2, await sut.AcknowledgeManyAsync([Release(leased[2]), Release(leased[0])], Ct));
        Assert.Equal(1, await sut.AcknowledgeManyAsync([Release(leased[1])], Ct));
        var again = await sut.DequeueAsync(TestJobs.Request(4), Ct);

        Assert.Equal([leased[0].Id, leased[1].Id, leased[2].Id, leased[3].Id], again.Select(static j => j.Id));
        Assert.All(again.Zip(leased), static pair => Assert.NotEqual(pair.Second.LeaseToken, pair.First.LeaseToken));
        Assert.Equal(1, await sut.AcknowledgeManyAsync([Release(again[2])], Ct));
        Assert.Equal(leased[2].Id, (await sut.DequeueAsync(TestJobs.Request(1), Ct)).Single().Id);
    }

    [Theory]
    [InlineData(nameof(SqlStatement.Dequeue), "jobs_pending")]
    [InlineData(nameof(SqlStatement.PromoteDue), "jobs_due")]
    [InlineData(nameof(SqlStatement.RecoverExpired), "jobs_lease")]
    [InlineData(nameof(SqlStatement.PurgeJobs), "jobs_expires")]
    [InlineData(nameof(SqlStatement.FindUniqueHolder), "jobs_unique")]
    [InlineData(nameof(SqlStatement.HasPendingJobs), "jobs_pending")]
    [InlineData(nameof(SqlStatement.AckSucceededMany), "sqlite_autoindex_jobs_1")]
    public async Task HotStatements_ReadThroughTheirIndex_NeverScanTheJobsTable(string statement, string index)
    {
        // The promise behind "a dequeue costs the same with a million finished jobs": no statement of the
        // hot path or of the background loops walks the whole jobs table.
        await using var sut = _database.CreateStore(_time);
        await sut.InitializeAsync(Ct);
        using var connection = OpenRaw();

        var plan = QueryPlan(connection, SqlText.Get(Enum.Parse<SqlStatement>(statement)));

        Assert.Contains(index, plan, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"SCAN jobs(?! USING)", plan);
    }

    [Fact]
    public async Task Statements_BoundAgain_AreNotCompiledAgain()
    {
        // SQLite compiles a statement again (with every trigger on its table) each time a parameter is bound
        // whose value the planner read, as it reads a bare LIMIT @n: 0.5 ms a dequeue. The store binds every
        // parameter at each call, so no statement may have one.
        await using var sut = _database.CreateStore(_time);
        await sut.InitializeAsync(Ct);
        using var connection = OpenRaw();
        connection.CreateFunction<string, string, bool>("conveyor_last_error_contains", static (_, _) => true);
        Execute(connection, "BEGIN;");
        // The statements of Sql/, those the store keeps as constants beside its code, and a listing.
        var texts = Enum.GetValues<SqlStatement>().Select(s => (s.ToString(), SqlText.Get(s)))
            .Concat(typeof(SqliteJobStore).GetFields(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
                .Where(f => f.IsLiteral && f.Name.EndsWith("Sql", StringComparison.Ordinal))
                .Select(f => (f.Name, (string)f.GetRawConstantValue()!)))
            .Append(("listing", SqliteJobStore.ListingSql(new JobQuery { Tenant = "acme", State = JobState.Failed, Type = "t", Queue = "q", ErrorContains = "e" })))
            .ToList();
        Assert.True(texts.Count > Enum.GetValues<SqlStatement>().Length + 10);

        var compiledAgain = texts.Where(t => CompilesAgainWhenBound(connection, t.Item2)).Select(t => t.Item1).ToList();

        Execute(connection, "ROLLBACK;");
        Assert.Empty(compiledAgain);
    }

    public static TheoryData<string, string> Listings => new()
    {
        { "tenant", "jobs_tenant_created" },
        { "tenant state", "jobs_state_created" },
        { "state", "jobs_state_created" },
        { "", "jobs_created" },
        { "tenant type queue error after before", "jobs_tenant_created" },
        { "state type queue error after before", "jobs_state_created" },
        { "error after", "jobs_created" },
    };

    [Theory]
    [MemberData(nameof(Listings))]
    public async Task Listings_ReadAKeysetInPageOrder_NeverScanOrSortTheJobsTable(string filters, string index)
    {
        // The dashboard's promise: a page of any listing reads its rows from one index in page order, whatever
        // the number of jobs (no scan of the table, no sort of the matches).
        await using var sut = _database.CreateStore(_time);
        await sut.InitializeAsync(Ct);
        using var connection = OpenRaw();
        connection.CreateFunction<string, string, bool>("conveyor_last_error_contains", static (_, _) => true);
        var has = filters.Split(' ');
        var query = new JobQuery
        {
            Tenant = has.Contains("tenant") ? "acme" : null,
            State = has.Contains("state") ? JobState.Failed : null,
            Type = has.Contains("type") ? "mail:send" : null,
            Queue = has.Contains("queue") ? "mail" : null,
            ErrorContains = has.Contains("error") ? "timeout" : null,
            CreatedAfter = has.Contains("after") ? DateTimeOffset.UnixEpoch : null,
            CreatedBefore = has.Contains("before") ? DateTimeOffset.UnixEpoch : null,
        };

        var plan = QueryPlan(connection, SqliteJobStore.ListingSql(query));

        Assert.Contains(index, plan, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"SCAN jobs(?! USING)", plan);
        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, false, "batches_tenant_created")]
    [InlineData(true, true, "batches_tenant_state_created")]
    [InlineData(false, false, "batches_created")]
    [InlineData(false, true, "batches_state_created")]
    public async Task BatchListings_ReadAKeysetInPageOrder_NeverScanOrSortTheBatchesTable(bool oneTenant, bool byState, string index)
    {
        await using var sut = _database.CreateStore(_time);
        await sut.InitializeAsync(Ct);
        using var connection = OpenRaw();

        var plan = QueryPlan(connection, SqliteJobStore.ListBatchesSql(oneTenant, byState));

        Assert.Contains(index, plan, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"SCAN batches(?! USING)", plan);
        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal);
    }

    // SQLITE_STMTSTATUS_REPREPARE, which SQLitePCL.raw does not name.
    private const int StatementStatusReprepare = 5;

    /// <summary>Runs each statement of <paramref name="sql"/> twice, its parameters bound before each run; true if SQLite compiled one again.</summary>
    private static bool CompilesAgainWhenBound(SqliteConnection connection, string sql)
    {
        var remaining = sql;
        while (remaining.Trim().Length > 0)
        {
            Assert.Equal(raw.SQLITE_OK, raw.sqlite3_prepare_v2(connection.Handle, remaining, out var statement, out var tail));
            remaining = tail;
            using (statement)
            {
                if (statement.IsInvalid)
                {
                    continue;
                }

                for (var run = 0; run < 2; run++)
                {
                    for (var i = 1; i <= raw.sqlite3_bind_parameter_count(statement); i++)
                    {
                        raw.sqlite3_bind_int64(statement, i, 1);
                    }

                    // The result does not matter (a constraint may refuse the values): only whether it was compiled again.
                    while (raw.sqlite3_step(statement) == raw.SQLITE_ROW)
                    {
                    }

                    raw.sqlite3_reset(statement);
                }

                if (raw.sqlite3_stmt_status(statement, StatementStatusReprepare, 0) > 0)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private SqliteConnection OpenRaw()
    {
        var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False");
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string QueryPlan(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.Add(reader.GetString(3));
        }

        return string.Join('\n', lines);
    }
}
