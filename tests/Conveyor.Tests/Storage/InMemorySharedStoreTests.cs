using Conveyor.Storage;
using Conveyor.Storage.Conformance;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Storage;

public sealed class InMemorySharedStoreTests : SharedStoreTests
{
    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) =>
        ValueTask.FromResult<IJobStore>(new InMemoryJobStore(timeProvider));

    // The in-memory store's data lives in its instance: the only instance sharing it is itself.
    protected override ValueTask<IJobStore> CreateSiblingStoreAsync(IJobStore store, FakeTimeProvider timeProvider) =>
        ValueTask.FromResult(store);
}
