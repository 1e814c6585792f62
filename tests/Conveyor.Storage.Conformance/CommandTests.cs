namespace Conveyor.Storage.Conformance;

/// <summary>Conformance tests: Command.</summary>
public abstract class CommandTests : JobStoreTestBase
{
}
