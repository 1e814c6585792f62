namespace Conveyor.Storage.Conformance;

/// <summary>Conformance tests: Query.</summary>
public abstract class QueryTests : JobStoreTestBase
{
}
