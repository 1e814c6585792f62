using Conveyor.Storage;
using Npgsql;

namespace Conveyor.Postgres.Tests;

public sealed class PostgresMigratorTests : IAsyncLifetime
{
    private readonly PostgresTestSchema _schema = new();
    private readonly FakeTimeProvider _time = new(TestJobs.StartTime);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _schema.DisposeAsync();

    [PostgresFact]
    public async Task Initialize_ManyStoresAtOnceOnAnEmptySchema_AllStartAndEachMigrationRunsOnce()
    {
        var stores = Enumerable.Range(0, 6).Select(_ => _schema.CreateStore(_time)).ToArray();

        await Task.WhenAll(stores.Select(s => s.InitializeAsync(CancellationToken.None).AsTask()));

        var rows = await _schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.schema_migrations");
        Assert.Equal(PostgresMigrator.All.Count, rows);
        var latest = await _schema.ScalarAsync<int>("SELECT max(version) FROM {schema}.schema_migrations");
        Assert.Equal(PostgresMigrator.LatestVersion, latest);
        foreach (var store in stores)
        {
            Assert.Equal(Conveyor.EnqueueOutcome.Enqueued, (await store.EnqueueAsync(TestJobs.New(), CancellationToken.None)).Outcome);
        }
    }

    // A schema a newer version migrated: a server of this version still starts (a rolling upgrade, a roll-back), and
    // the migrator names the newer migrations for the store's warning, with or without ApplyMigrations.
    [PostgresTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Initialize_OnASchemaANewerVersionMigrated_Opens_AndNamesTheNewerMigrations(bool applyMigrations)
    {
        await (await _schema.CreateInitializedStoreAsync(_time)).DisposeAsync();
        var newer = PostgresMigrator.LatestVersion + 1;
        await _schema.ScalarAsync<int>($"INSERT INTO {{schema}}.schema_migrations (version, name) VALUES ({newer}, '{newer:D4}_from_a_newer_version') RETURNING version");

        await using var dataSource = NpgsqlDataSource.Create(PostgresTestSchema.ConnectionString);
        var found = applyMigrations
            ? await PostgresMigrator.MigrateAsync(dataSource, _schema.Name, CancellationToken.None)
            : await PostgresMigrator.VerifyAsync(dataSource, _schema.Name, CancellationToken.None);
        var store = await _schema.CreateInitializedStoreAsync(_time, o => o.ApplyMigrations = applyMigrations);

        Assert.Equal([newer], found);
        Assert.Equal(Conveyor.EnqueueOutcome.Enqueued, (await store.EnqueueAsync(TestJobs.New(), CancellationToken.None)).Outcome);
    }

    [PostgresFact]
    public async Task Initialize_Twice_AppliesNothingTheSecondTime()
    {
        await (await _schema.CreateInitializedStoreAsync(_time)).DisposeAsync();

        await _schema.CreateInitializedStoreAsync(_time);

        Assert.Equal(PostgresMigrator.All.Count, await _schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.schema_migrations"));
    }

    [PostgresFact]
    public async Task Initialize_WithoutApplyMigrationsOnAnEmptySchema_RefusesAndNamesTheMissingFiles()
    {
        var store = _schema.CreateStore(_time, o => o.ApplyMigrations = false);

        // Unavailable: a server waits its store start timeout for a migration job that may be running beside it.
        var error = await Assert.ThrowsAsync<JobStoreUnavailableException>(() => store.InitializeAsync(CancellationToken.None).AsTask());

        Assert.Contains("0001_initial", error.Message, StringComparison.Ordinal);
        Assert.Contains("ApplyMigrations", error.Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task MigrationFiles_AppliedByHandWithPsql_AreAcceptedByAStoreThatDoesNotMigrate()
    {
        // What a DBA does: psql -v ON_ERROR_STOP=1 -1 -v schema=<name> -f 0001_initial.sql, file by file.
        foreach (var migration in PostgresMigrator.All)
        {
            await ApplyAsPsqlWouldAsync(migration);
        }

        var store = await _schema.CreateInitializedStoreAsync(_time, o => o.ApplyMigrations = false);

        Assert.Equal(Conveyor.EnqueueOutcome.Enqueued, (await store.EnqueueAsync(TestJobs.New(), CancellationToken.None)).Outcome);
        Assert.Equal(PostgresMigrator.All.Count, await _schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.schema_migrations"));
    }

    [PostgresFact]
    public async Task QueueCountsMigration_CountsTheJobsThatExistedBeforeIt()
    {
        // A database at version 6 with jobs in it, as an upgrade finds it.
        foreach (var migration in PostgresMigrator.All.Where(m => m.Version < 7))
        {
            await ApplyAsPsqlWouldAsync(migration);
        }

        await _schema.ScalarAsync<int>("""
            WITH rows(id, queue, state) AS (VALUES
                ('j1', 'default', 'pending'), ('j2', 'default', 'pending'), ('j3', 'default', 'failed'),
                ('j4', 'low', 'scheduled'), ('j5', 'low', 'succeeded'), ('j6', 'low', 'succeeded'), ('j7', 'low', 'active'))
            INSERT INTO {schema}.jobs (id, tenant, type, queue, state, payload, max_retry, retention, created_at, updated_at, enqueued_at, scheduled_at)
            SELECT id, 'default', 'test:run', queue, state, '\x7b7d'::bytea, 3, interval '1 day', now(), now(), now(), now() + interval '1 hour' FROM rows
            RETURNING 0
            """);

        var store = await _schema.CreateInitializedStoreAsync(_time);
        var stats = (await store.GetQueueStatsAsync(CancellationToken.None)).ToDictionary(q => q.Queue);

        Assert.Equal((2L, 1L), (stats["default"].Pending, stats["default"].Failed));
        Assert.Equal((1L, 2L, 1L), (stats["low"].Scheduled, stats["low"].Succeeded, stats["low"].Active));

        // And the triggers count what happens after it.
        await store.EnqueueAsync(TestJobs.New(queue: "low"), CancellationToken.None);
        Assert.Equal(1L, (await store.GetQueueStatsAsync(CancellationToken.None)).Single(q => q.Queue == "low").Pending);
    }

    [PostgresFact]
    public async Task StoreCalls_WhileTheOpenWaitsForMigrations_AreUnavailableUntilTheyAreApplied()
    {
        // A database at version 14 (before workflows), whose DBA applies the files: what a process started without its
        // store (an API, or a server with StartWithoutStore) calls while its background opener waits for them.
        await ApplyAsPsqlWouldAsync(PostgresMigrator.All.Where(m => m.Version < 15));
        var store = _schema.CreateStore(_time, o => o.ApplyMigrations = false);
        var job = TestJobs.New();
        await store.EnqueueAsync(job, CancellationToken.None);
        await Assert.ThrowsAsync<JobStoreUnavailableException>(() => store.InitializeAsync(CancellationToken.None).AsTask());

        // Unavailable, as in an outage: the API answers 503 and the server's components back off and try again.
        var error = await Assert.ThrowsAsync<JobStoreUnavailableException>(() => store.GetAsync(job.Tenant, job.Id, CancellationToken.None).AsTask());
        Assert.Contains("migrations are not applied yet", error.Message, StringComparison.Ordinal);
        Assert.Equal("42703", Assert.IsType<PostgresException>(error.InnerException).SqlState);

        await ApplyAsPsqlWouldAsync(PostgresMigrator.All.Where(m => m.Version >= 15));
        await store.InitializeAsync(CancellationToken.None);

        Assert.Equal(job.Id, (await store.GetAsync(job.Tenant, job.Id, CancellationToken.None))?.Id);
    }

    [PostgresFact]
    public async Task StoreCalls_OfAProcessThatNeverOpensTheStore_NamingWhatTheSchemaLacks_FailAsDefects()
    {
        // A client that only enqueues opens nothing: retried as an outage, a defect of its SQL would never heal.
        await ApplyAsPsqlWouldAsync(PostgresMigrator.All.Where(m => m.Version < 15));
        var store = _schema.CreateStore(_time);
        var job = TestJobs.New();
        await store.EnqueueAsync(job, CancellationToken.None);

        var error = await Assert.ThrowsAsync<PostgresException>(() => store.GetAsync(job.Tenant, job.Id, CancellationToken.None).AsTask());
        Assert.Equal("42703", error.SqlState);
    }

    [PostgresFact]
    public async Task Open_WhoseMigrationNamesWhatTheSchemaLacks_FailsAtOnce()
    {
        // 0015 applied by hand half-way (without -1): its first statement dropped the constraint it drops again.
        await ApplyAsPsqlWouldAsync(PostgresMigrator.All.Where(m => m.Version < 15));
        await _schema.ScalarAsync<int>("ALTER TABLE {schema}.jobs DROP CONSTRAINT jobs_state_check; SELECT 0");
        var store = _schema.CreateStore(_time);

        // The migrations bring the schema up to date: SQL of theirs that names what it lacks is their defect, which
        // waiting cannot heal, so the start stops with it rather than retry.
        var error = await Assert.ThrowsAsync<PostgresException>(() => store.InitializeAsync(CancellationToken.None).AsTask());
        Assert.Equal("42704", error.SqlState);
    }

    private async Task ApplyAsPsqlWouldAsync(IEnumerable<PostgresMigrator.Migration> migrations)
    {
        foreach (var migration in migrations)
        {
            await ApplyAsPsqlWouldAsync(migration);
        }
    }

    [PostgresFact]
    public async Task StoreCalls_NamingWhatTheSchemaLacksAfterTheStoreIsOpened_FailAsDefects()
    {
        var store = await _schema.CreateInitializedStoreAsync(_time);
        var job = TestJobs.New();
        await store.EnqueueAsync(job, CancellationToken.None);

        // Once this process has migrated the schema, SQL naming what it lacks is a defect: retried, it would never heal.
        await _schema.ScalarAsync<int>("ALTER TABLE {schema}.jobs DROP COLUMN snooze_reason; SELECT 0");

        var error = await Assert.ThrowsAsync<PostgresException>(() => store.GetAsync(job.Tenant, job.Id, CancellationToken.None).AsTask());
        Assert.Equal("42703", error.SqlState);
    }

    /// <summary>Runs the file with the real psql when the test cluster's bin directory is known, else its substituted text.</summary>
    private async Task ApplyAsPsqlWouldAsync(PostgresMigrator.Migration migration)
    {
        var psql = PostgresTestServer.BinDirectory is { } bin ? Path.Combine(bin, "psql") : null;
        if (psql is null || !File.Exists(psql))
        {
            await using var connection = await _schema.OpenConnectionAsync();
            await using var command = new NpgsqlCommand(PostgresSchemaName.Substitute(migration.Sql, _schema.Name), connection);
            await command.ExecuteNonQueryAsync();
            return;
        }

        var file = Path.Combine(Path.GetTempPath(), $"{_schema.Name}-{migration.Name}.sql");
        await File.WriteAllTextAsync(file, migration.Sql);
        try
        {
            var server = new NpgsqlConnectionStringBuilder(PostgresTestSchema.ConnectionString);
            var start = new System.Diagnostics.ProcessStartInfo(psql)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                ArgumentList =
                {
                    "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-v", $"schema={_schema.Name}", "-f", file,
                    "-h", server.Host!, "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "-U", server.Username!, "-d", server.Database!,
                },
            };
            using var process = System.Diagnostics.Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync();
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"psql failed on {migration.Name}: {await errors}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void MigrationFiles_AreNumberedFromOneWithoutGaps()
    {
        Assert.Equal(Enumerable.Range(1, PostgresMigrator.All.Count), PostgresMigrator.All.Select(m => m.Version));
        Assert.Equal("0001_initial", PostgresMigrator.All[0].Name);
    }

    [Theory]
    [InlineData("conveyor")]
    [InlineData("_jobs")]
    [InlineData("app_jobs_2")]
    public void SchemaName_Valid_IsAccepted(string schema) => Assert.True(PostgresSchemaName.IsValid(schema));

    [Theory]
    [InlineData("")]
    [InlineData("Conveyor")]
    [InlineData("2jobs")]
    [InlineData("pg_jobs")]
    [InlineData("jobs\"; DROP TABLE users; --")]
    [InlineData("a-b")]
    [InlineData("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghi")]
    public void SchemaName_Invalid_IsRefusedByTheStore(string schema)
    {
        Assert.False(PostgresSchemaName.IsValid(schema));
        Assert.Throws<ArgumentException>(() => new PostgresJobStore(new PostgresStoreOptions { ConnectionString = "Host=localhost", Schema = schema }));
    }
}
