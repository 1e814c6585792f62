using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Redis.Tests.Conformance;

/// <remarks>
/// The store writes with one script that checks every job before its first write, and Redis runs a script whole or
/// not at all (a server that dies loses it whole): no fault can be injected part-way (docs/redis.md, "Fan-out").
/// </remarks>
public sealed class RedisEnqueueAllOrNoneTests : EnqueueAllOrNoneTests
{
    protected override async ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) =>
        await RedisTestEnvironment.CreateStoreAsync(timeProvider);
}
