using Conveyor.Storage.Conformance;

namespace Conveyor.Tests.Storage;

/// <summary>This project runs every area of the conformance suite: a missing subclass fails here.</summary>
public sealed class InMemoryConformanceCoverageTests
{
    [Fact]
    public void EveryConformanceArea_HasASubclassInThisProject() =>
        ConformanceSuite.AssertEveryAreaIsRunBy(typeof(InMemoryConformanceCoverageTests).Assembly);
}
