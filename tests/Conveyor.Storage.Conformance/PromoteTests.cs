namespace Conveyor.Storage.Conformance;

/// <summary>Conformance tests: Promote.</summary>
public abstract class PromoteTests : JobStoreTestBase
{
}
