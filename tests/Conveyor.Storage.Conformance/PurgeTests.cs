namespace Conveyor.Storage.Conformance;

/// <summary>Conformance tests: Purge.</summary>
public abstract class PurgeTests : JobStoreTestBase
{
}
