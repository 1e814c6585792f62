using System.Diagnostics;
using Conveyor.Sqlite.Internal;

namespace Conveyor.Sqlite.Tests;

/// <summary>
/// A real second process on the same file. It runs the store's own Dequeue.sql inside BEGIN IMMEDIATE, as
/// another Conveyor process would, through Python's sqlite3 module (python3 is already needed by eng/test.sh),
/// so that only SQLite's file locking stands between the two.
/// </summary>
public sealed class SqliteCrossProcessTests : IDisposable
{
    private const string OtherProcess = """
        import sqlite3, sys
        path, sql_path = sys.argv[1], sys.argv[2]
        sql = open(sql_path, encoding="utf-8").read()
        db = sqlite3.connect(path, timeout=60, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 60000")
        def dequeue():
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute(sql, {"queue": "default", "limit": 7, "now": 1, "owner": "python",
                                    "lease_expires_at": 999999999999999}).fetchall()
            db.execute("COMMIT")
            return [row[0] for row in rows]
        first = dequeue()
        print("ready", flush=True)
        sys.stdin.readline()
        for job_id in first:
            print(job_id)
        while True:
            ids = dequeue()
            if not ids:
                break
            for job_id in ids:
                print(job_id)
        sys.stdout.flush()
        """;

    private readonly SqliteTestDatabase _database = new();
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromSeconds(120));

    private CancellationToken Ct => _guard.Token;

    public void Dispose()
    {
        _guard.Dispose();
        _database.Dispose();
        File.Delete(_database.Path + ".dequeue.sql");
    }

    [Fact]
    public async Task DequeueAsync_AnotherProcessDequeuesFromTheSameFile_EveryJobIsLeasedExactlyOnce()
    {
        const int jobCount = 3000;
        await using var store = _database.CreateStore(TimeProvider.System, o => o.BusyTimeout = TimeSpan.FromSeconds(60));
        var jobs = Enumerable.Range(0, jobCount).Select(_ => TestJobs.New()).ToArray();
        foreach (var chunk in jobs.Chunk(1000))
        {
            await store.EnqueueManyAsync(chunk, Ct);
        }

        await File.WriteAllTextAsync(_database.Path + ".dequeue.sql", SqlText.Get(SqlStatement.Dequeue), Ct);
        using var other = Process.Start(new ProcessStartInfo("python3")
        {
            ArgumentList = { "-c", OtherProcess, _database.Path, _database.Path + ".dequeue.sql" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        Assert.Equal("ready", await other.StandardOutput.ReadLineAsync(Ct));
        var otherOutput = other.StandardOutput.ReadToEndAsync(Ct);
        var otherErrors = other.StandardError.ReadToEndAsync(Ct);

        // Each side takes one batch before the race starts, so that neither can be starved out of the results
        // entirely (SQLite's busy handler sleeps, and a loaded machine can let one loop drain the queue alone).
        var ours = (await store.DequeueAsync(TestJobs.Request(5, "dotnet"), Ct)).Select(static j => j.Id).ToList();
        Assert.NotEmpty(ours);
        await other.StandardInput.WriteLineAsync("go");
        await other.StandardInput.FlushAsync(Ct);
        while (true)
        {
            var batch = await store.DequeueAsync(TestJobs.Request(5, "dotnet"), Ct);
            if (batch.Count == 0)
            {
                break;
            }

            ours.AddRange(batch.Select(static j => j.Id));
        }

        await other.WaitForExitAsync(Ct);
        Assert.True(other.ExitCode == 0, await otherErrors);
        var theirs = (await otherOutput).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        Assert.NotEmpty(theirs);
        Assert.Empty(ours.Intersect(theirs));
        Assert.Equal(jobCount, ours.Count + theirs.Length);
        Assert.Equal(jobs.Select(static j => j.Id).Order(), ours.Concat(theirs).Order());
        var stats = Assert.Single(await store.GetQueueStatsAsync(Ct));
        Assert.Equal(jobCount, stats.Active);
    }
}
