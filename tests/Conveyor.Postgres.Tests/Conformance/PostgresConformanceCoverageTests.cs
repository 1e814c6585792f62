using Conveyor.Storage.Conformance;

namespace Conveyor.Postgres.Tests.Conformance;

/// <summary>This project runs every area of the conformance suite: a missing subclass fails here.</summary>
public sealed class PostgresConformanceCoverageTests
{
    [Fact]
    public void EveryConformanceArea_HasASubclassInThisProject() =>
        ConformanceSuite.AssertEveryAreaIsRunBy(typeof(PostgresConformanceCoverageTests).Assembly);
}
