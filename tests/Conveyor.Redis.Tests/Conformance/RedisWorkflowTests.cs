using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Redis.Tests.Conformance;

public sealed class RedisWorkflowTests : WorkflowTests
{
    protected override bool TakesReleasedJobs => true;

    protected override async ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) =>
        await RedisTestEnvironment.CreateStoreAsync(timeProvider);
}
