namespace Conveyor.Storage.Conformance;

/// <summary>Conformance tests: Queue.</summary>
public abstract class QueueTests : JobStoreTestBase
{
}
