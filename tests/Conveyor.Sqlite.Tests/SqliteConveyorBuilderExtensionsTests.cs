using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conveyor.Sqlite.Tests;

public sealed class SqliteConveyorBuilderExtensionsTests : IDisposable
{
    private readonly SqliteTestDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task UseSqlite_WithConfigure_RegistersOneSqliteStoreAsIJobStore()
    {
        var services = Services();
        services.AddConveyor().UseSqlite(o => o.Path = _database.Path);
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IJobStore>();

        var sqlite = Assert.IsType<SqliteJobStore>(store);
        Assert.Same(store, provider.GetRequiredService<IJobStore>());
        Assert.Equal("sqlite", store.Name);
        Assert.Equal(_database.Path, sqlite.DatabasePath);
    }

    [Fact]
    public void UseSqlite_ConfigurationSection_IsBound()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conveyor:Sqlite:Path"] = _database.Path,
            ["Conveyor:Sqlite:BusyTimeout"] = "00:00:09",
            ["Conveyor:Sqlite:DurableCommits"] = "true",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddConveyor().UseSqlite();
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<SqliteStoreOptions>>().Value;

        Assert.Equal(_database.Path, options.Path);
        Assert.Equal(TimeSpan.FromSeconds(9), options.BusyTimeout);
        Assert.True(options.DurableCommits);
    }

    [Fact]
    public void UseSqlite_InvalidSettings_FailValidationNamingTheSetting()
    {
        var services = Services();
        services.AddConveyor().UseSqlite(o =>
        {
            o.Path = null;
            o.BusyTimeout = TimeSpan.Zero;
        });
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SqliteStoreOptions>>().Value);

        Assert.Contains("BusyTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_AreTheNamedConstants()
    {
        var options = new SqliteStoreOptions();

        Assert.Equal("conveyor.db", options.Path);
        Assert.Null(options.ConnectionString);
        Assert.Equal(SqliteStoreOptions.DefaultBusyTimeout, options.BusyTimeout);
        Assert.Equal(SqliteStoreOptions.DefaultExternalChangePollInterval, options.ExternalChangePollInterval);
        Assert.Equal(SqliteStoreOptions.DefaultMaxReadConnections, options.MaxReadConnections);
        Assert.False(options.DurableCommits);
    }

    private static ServiceCollection Services()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        return services;
    }
}
