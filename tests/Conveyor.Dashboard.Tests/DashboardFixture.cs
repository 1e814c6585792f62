namespace Conveyor.Dashboard.Tests;

/// <summary>One seeded server shared by the browser tests (seeding 15,000 jobs once, not per test); they run one after another.</summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const int PagingJobs = 10_000;

    internal DashboardServer Server { get; private set; } = null!;

    internal SeedData Seed { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await DashboardServer.StartAsync();
        Seed = await SeedData.SeedAsync(Server.Store, PagingJobs);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardFixture>
{
    public const string Name = "dashboard";
}
