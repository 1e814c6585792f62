using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Redis.Tests.Conformance;

public sealed class RedisSignalTests : SignalTests
{
    protected override async ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) =>
        await RedisTestEnvironment.CreateStoreAsync(timeProvider);
}
