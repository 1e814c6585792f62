using Conveyor.Storage.Conformance;

namespace Conveyor.Redis.Tests.Conformance;

/// <summary>This project runs every area of the conformance suite: a missing subclass fails here.</summary>
public sealed class RedisConformanceCoverageTests
{
    [Fact]
    public void EveryConformanceArea_HasASubclassInThisProject() =>
        ConformanceSuite.AssertEveryAreaIsRunBy(typeof(RedisConformanceCoverageTests).Assembly);
}
