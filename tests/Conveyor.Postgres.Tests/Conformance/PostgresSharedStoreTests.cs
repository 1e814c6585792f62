using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Postgres.Tests.Conformance;

/// <summary>Two store instances on one schema, as two server processes sharing one database.</summary>
public sealed class PostgresSharedStoreTests : SharedStoreTests
{
    private readonly PostgresTestSchema _schema = PostgresTestSchema.Reused();

    /// <summary>Instances wake each other with NOTIFY.</summary>
    protected override bool InstancesNotifyEachOther => true;

    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) => _schema.CreateJobStoreAsync(timeProvider);

    protected override ValueTask<IJobStore> CreateSiblingStoreAsync(IJobStore store, FakeTimeProvider timeProvider) => _schema.CreateJobStoreAsync(timeProvider);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _schema.DisposeAsync();
    }
}
