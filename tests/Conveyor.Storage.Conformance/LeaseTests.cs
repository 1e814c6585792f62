namespace Conveyor.Storage.Conformance;

/// <summary>Conformance tests: Lease.</summary>
public abstract class LeaseTests : JobStoreTestBase
{
}
