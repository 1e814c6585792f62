using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Redis.Tests.Conformance;

/// <summary>Two store instances on one key prefix, as two server processes sharing one Redis.</summary>
public sealed class RedisSharedStoreTests : SharedStoreTests
{
    private readonly string _prefix = RedisTestEnvironment.NewPrefix();

    /// <summary>Instances publish wake-ups to each other over pub/sub.</summary>
    protected override bool InstancesNotifyEachOther => true;

    protected override async ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) =>
        await RedisTestEnvironment.CreateStoreAsync(timeProvider, _prefix);

    protected override async ValueTask<IJobStore> CreateSiblingStoreAsync(IJobStore store, FakeTimeProvider timeProvider) =>
        await RedisTestEnvironment.CreateStoreAsync(timeProvider, _prefix);
}
