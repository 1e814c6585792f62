using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Sqlite.Tests.Conformance;

public sealed class SqliteWorkflowTests : WorkflowTests
{
    private readonly SqliteTestDatabase _database = new();

    protected override bool TakesReleasedJobs => true;

    // SQLite stops nested triggers at a depth of 1,000 (SQLITE_MAX_TRIGGER_DEPTH); ARCHITECTURE.md, "Workflows".
    protected override int CancelledChainLength => 999;

    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) => _database.CreateStoreAsync(timeProvider);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }
}
