using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Conveyor.Redis.Tests;

public sealed class RedisConveyorBuilderExtensionsTests
{
    [RedisFact]
    public async Task UseRedis_ConfigurationSection_BindsOptionsAndRegistersTheStore()
    {
        var prefix = RedisTestEnvironment.NewPrefix();
        await using var services = Build(new Dictionary<string, string?>
        {
            ["Conveyor:Redis:Configuration"] = RedisTestEnvironment.Endpoint,
            ["Conveyor:Redis:KeyPrefix"] = prefix,
        });

        var store = Assert.IsType<RedisJobStore>(services.GetRequiredService<IJobStore>());
        await store.InitializeAsync(CancellationToken.None);

        Assert.Equal(prefix, store.KeyPrefix);
        Assert.Same(store, services.GetRequiredService<RedisJobStore>());
        Assert.Equal(EnqueueOutcome.Enqueued, (await store.EnqueueAsync(RedisKeyLayoutTests.NewJob("default"), CancellationToken.None)).Outcome);
    }

    [RedisFact]
    public async Task UseRedis_MultiplexerInTheContainer_IsReusedAndLeftOpen()
    {
        var connection = await RedisTestEnvironment.ConnectionAsync();
        var collection = new ServiceCollection();
        collection.AddSingleton(new ConfigurationBuilder().Build() as IConfiguration);
        collection.AddSingleton<IConnectionMultiplexer>(connection);
        new Builder(collection).UseRedis(o => o.KeyPrefix = RedisTestEnvironment.NewPrefix());

        await using (var services = collection.BuildServiceProvider())
        {
            var store = services.GetRequiredService<IJobStore>();
            await store.InitializeAsync(CancellationToken.None);
            await store.EnqueueAsync(RedisKeyLayoutTests.NewJob("default"), CancellationToken.None);
        }

        Assert.True(connection.IsConnected);
    }

    [Theory]
    [InlineData("has{brace}")]
    [InlineData("")]
    [InlineData("has space")]
    public async Task UseRedis_InvalidKeyPrefix_FailsValidationNamingTheSetting(string prefix)
    {
        await using var services = Build(new Dictionary<string, string?> { ["Conveyor:Redis:KeyPrefix"] = prefix });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RedisStoreOptions>>().Value);
        Assert.Contains("KeyPrefix", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Conveyor:Redis:WaitForReplicas", "17", "Conveyor:Redis:WaitForReplicas must be between")]
    [InlineData("Conveyor:Redis:WaitForReplicas", "-1", "Conveyor:Redis:WaitForReplicas must be between")]
    [InlineData("Conveyor:Redis:WaitForReplicasTimeout", "00:02:00", "Conveyor:Redis:WaitForReplicasTimeout must be between")]
    [InlineData("Conveyor:Redis:WaitForReplicasTimeout", "00:00:00", "Conveyor:Redis:WaitForReplicasTimeout must be between")]
    public async Task UseRedis_WaitForReplicasOutOfRange_FailsValidationNamingTheSetting(string setting, string value, string message)
    {
        await using var services = Build(new Dictionary<string, string?> { [setting] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RedisStoreOptions>>().Value);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Conveyor:Redis:Configuration", "", "Conveyor:Redis:Configuration is required: the Redis servers as host:port")]
    [InlineData("Conveyor:Redis:KeyPrefix", "", "Conveyor:Redis:KeyPrefix is required: 1–64 characters")]
    [InlineData("Conveyor:Redis:Configuration", ",,=,foo=bar", "Conveyor:Redis:Configuration cannot be read: Keyword 'foo' is not supported.")]
    [InlineData("Conveyor:Redis:Configuration", "127.0.0.1:99999", "Conveyor:Redis:Configuration cannot be read: its port is out of the range of valid values.")]
    [InlineData("Conveyor:Redis:Configuration", "127.0.0.1:notaport,,=", "Conveyor:Redis:Configuration names '")]
    [InlineData("Conveyor:Redis:Configuration", "localhost:6379,syncTimeout=ten", "Conveyor:Redis:Configuration cannot be read: Keyword 'syncTimeout' requires an integer value")]
    public async Task UseRedis_AConfigurationOrPrefixItCannotUse_FailsValidationNamingTheSettingOnce(string setting, string value, string message)
    {
        await using var services = Build(new Dictionary<string, string?> { [setting] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RedisStoreOptions>>().Value);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("RedisStoreOptions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UseRedis_WithTheApplicationsOwnMultiplexer_DoesNotReadTheConfigurationString()
    {
        await using var services = Build(new Dictionary<string, string?> { ["Conveyor:Redis:Configuration"] = ",,=,foo=bar" },
            static collection => collection.AddSingleton<IConnectionMultiplexer>(_ => throw new InvalidOperationException("not connected in this test")));

        Assert.Equal(",,=,foo=bar", services.GetRequiredService<IOptions<RedisStoreOptions>>().Value.Configuration);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings, Action<IServiceCollection>? register = null)
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        register?.Invoke(collection);
        new Builder(collection).UseRedis();
        return collection.BuildServiceProvider();
    }

    private sealed class Builder(IServiceCollection services) : IConveyorBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
