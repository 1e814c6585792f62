using Conveyor;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses the store from <c>Conveyor:Store</c>: sqlite (the default, no set-up) or memory.</summary>
internal static class StoreSelection
{
    public static readonly string[] Known = ["sqlite", "memory"];

    public static IConveyorBuilder UseConfiguredStore(this IConveyorBuilder builder, IConfiguration configuration)
    {
        var store = configuration["Conveyor:Store"] ?? "sqlite";
        return store.ToLowerInvariant() switch
        {
            "sqlite" => builder.UseSqlite(),
            "memory" => builder.UseInMemoryStore(),
            _ => throw new InvalidOperationException(
                $"Conveyor:Store is '{store}'; it accepts one of: {string.Join(", ", Known)}."),
        };
    }
}
