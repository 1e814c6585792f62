using Conveyor.Storage;
using Conveyor.Storage.Conformance;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Storage;

public sealed class InMemoryWorkflowTests : WorkflowTests
{
    protected override bool TakesReleasedJobs => true;

    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) =>
        ValueTask.FromResult<IJobStore>(new InMemoryJobStore(timeProvider));
}
