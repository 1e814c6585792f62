using Conveyor.Storage;
using Conveyor.Storage.Conformance;
using Microsoft.Data.Sqlite;

namespace Conveyor.Sqlite.Tests.Conformance;

public sealed class SqliteEnqueueAllOrNoneTests : EnqueueAllOrNoneTests
{
    private readonly SqliteTestDatabase _database = new();

    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) => _database.CreateStoreAsync(timeProvider);

    /// <summary>
    /// A trigger (made by another connection, as a second process could) aborts the insert of the failing job, after
    /// the jobs before it were inserted in the same transaction.
    /// </summary>
    protected override ValueTask<Type?> ArmFailureMidWriteAsync(string failingJobId)
    {
        using var connection = new SqliteConnection($"Data Source={_database.Path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"CREATE TRIGGER fail_mid_write BEFORE INSERT ON jobs WHEN NEW.id = '{failingJobId}' BEGIN SELECT RAISE(ABORT, 'the disk went away'); END;";
        command.ExecuteNonQuery();
        return ValueTask.FromResult<Type?>(typeof(SqliteException));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }
}
