using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Sqlite.Tests.Conformance;

public sealed class SqliteWorkflowTests : WorkflowTests
{
    private readonly SqliteTestDatabase _database = new();

    protected override bool TakesReleasedJobs => true;

    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) => _database.CreateStoreAsync(timeProvider);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }
}
