namespace Conveyor.Storage.Conformance;

/// <summary>Conformance tests: Coordination.</summary>
public abstract class CoordinationTests : JobStoreTestBase
{
}
