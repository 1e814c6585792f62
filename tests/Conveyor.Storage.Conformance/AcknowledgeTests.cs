namespace Conveyor.Storage.Conformance;

/// <summary>Conformance tests: Acknowledge.</summary>
public abstract class AcknowledgeTests : JobStoreTestBase
{
}
