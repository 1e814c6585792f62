namespace Conveyor.Storage.Conformance;

/// <summary>Conformance tests: WaitForJobs.</summary>
public abstract class WaitForJobsTests : JobStoreTestBase
{
}
