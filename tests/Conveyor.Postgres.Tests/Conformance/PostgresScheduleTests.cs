using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Postgres.Tests.Conformance;

public sealed class PostgresScheduleTests : ScheduleTests
{
    private readonly PostgresTestSchema _schema = PostgresTestSchema.Reused();

    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) => _schema.CreateJobStoreAsync(timeProvider);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _schema.DisposeAsync();
    }
}
