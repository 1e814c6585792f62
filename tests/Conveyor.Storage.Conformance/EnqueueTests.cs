namespace Conveyor.Storage.Conformance;

/// <summary>Enqueue: states, round trips, duplicate ids and unique keys, batches.</summary>
public abstract class EnqueueTests : JobStoreTestBase
{
    [Fact]
    public async Task Enqueue_WithoutProcessAt_IsPending()
    {
        var id = await EnqueueAsync();

        await AssertStateAsync(id, JobState.Pending);
    }
}
