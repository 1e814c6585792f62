using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Sqlite.Tests.Conformance;

public sealed class SqliteSignalTests : SignalTests
{
    private readonly SqliteTestDatabase _database = new();

    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) => _database.CreateStoreAsync(timeProvider);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }
}
