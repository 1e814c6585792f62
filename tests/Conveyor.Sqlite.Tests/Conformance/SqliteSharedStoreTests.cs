using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Sqlite.Tests.Conformance;

/// <summary>Two store instances on one file, as a web app and a worker process sharing conveyor.db.</summary>
public sealed class SqliteSharedStoreTests : SharedStoreTests
{
    private readonly SqliteTestDatabase _database = new();

    /// <summary>Instances on the same file in one process share the in-process wake signal.</summary>
    protected override bool InstancesNotifyEachOther => true;

    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) => _database.CreateStoreAsync(timeProvider);

    protected override ValueTask<IJobStore> CreateSiblingStoreAsync(IJobStore store, FakeTimeProvider timeProvider) => _database.CreateStoreAsync(timeProvider);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }
}
