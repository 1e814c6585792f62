using Conveyor.Storage;
using Conveyor.Storage.Conformance;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Storage;

/// <remarks>The in-memory store writes under one lock after checking every job, so it cannot fail part-way.</remarks>
public sealed class InMemoryEnqueueAllOrNoneTests : EnqueueAllOrNoneTests
{
    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) =>
        ValueTask.FromResult<IJobStore>(new InMemoryJobStore(timeProvider));
}
