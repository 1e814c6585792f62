namespace Conveyor.Storage.Conformance;

/// <summary>Conformance tests: Tenancy.</summary>
public abstract class TenancyTests : JobStoreTestBase
{
}
