using Conveyor.Storage.Conformance;

namespace Conveyor.Sqlite.Tests.Conformance;

/// <summary>This project runs every area of the conformance suite: a missing subclass fails here.</summary>
public sealed class SqliteConformanceCoverageTests
{
    [Fact]
    public void EveryConformanceArea_HasASubclassInThisProject() =>
        ConformanceSuite.AssertEveryAreaIsRunBy(typeof(SqliteConformanceCoverageTests).Assembly);
}
