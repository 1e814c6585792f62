using System.Reflection;

namespace Conveyor.Storage.Conformance;

/// <summary>
/// The suite's areas, so that a store's test project can prove that it runs every one of them: a store that forgets
/// to subclass an area would otherwise pass without its tests ever running.
/// </summary>
public static class ConformanceSuite
{
    /// <summary>Every abstract test class of the suite, by name.</summary>
    public static IReadOnlyList<Type> Areas { get; } = typeof(JobStoreTestBase).Assembly.GetTypes()
        .Where(static t => t is { IsClass: true, IsAbstract: true, IsPublic: true }
            && t != typeof(JobStoreTestBase) && typeof(JobStoreTestBase).IsAssignableFrom(t))
        .OrderBy(static t => t.Name, StringComparer.Ordinal)
        .ToArray();

    /// <summary>Fails, naming them, when <paramref name="storeTests"/> has no concrete subclass of some areas.</summary>
    public static void AssertEveryAreaIsRunBy(Assembly storeTests)
    {
        ArgumentNullException.ThrowIfNull(storeTests);
        var concrete = storeTests.GetTypes().Where(static t => t is { IsClass: true, IsAbstract: false }).ToArray();
        var missing = Areas.Where(area => !concrete.Any(area.IsAssignableFrom)).Select(static area => area.Name).ToArray();
        Assert.True(
            missing.Length == 0,
            $"{storeTests.GetName().Name} has no subclass of {string.Join(", ", missing)}: add one per area " +
            "(tests/Conveyor.Storage.Conformance/README.md).");
    }
}
