namespace Conveyor.Storage.Conformance;

/// <summary>Conformance tests: Dequeue.</summary>
public abstract class DequeueTests : JobStoreTestBase
{
}
