using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conveyor.Tests.Client;

public sealed class FireAndForgetOptionsTests
{
    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddConveyor().UseInMemoryStore().AddFireAndForget();
        return builder.Build();
    }

    [Theory]
    [InlineData("Conveyor:FireAndForget:BufferCapacity", "0", "Conveyor:FireAndForget:BufferCapacity must be between 1 and 1000000")]
    [InlineData("Conveyor:FireAndForget:MaxBatchSize", "20000", "Conveyor:FireAndForget:MaxBatchSize must be between 1 and 10000")]
    [InlineData("Conveyor:FireAndForget:EnqueueTimeout", "00:00:00", "Conveyor:FireAndForget:EnqueueTimeout must be between 00:00:00.01")]
    [InlineData("Conveyor:FireAndForget:ShutdownTimeout", "01:00:00", "Conveyor:FireAndForget:ShutdownTimeout must be between 00:00:00 and 00:05:00")]
    [InlineData("Conveyor:FireAndForget:FullWaitTimeout", "-00:00:01", "Conveyor:FireAndForget:FullWaitTimeout must be between 00:00:00 and 00:01:00")]
    [InlineData("Conveyor:FireAndForget:Queue", "not a queue", "Conveyor:FireAndForget:Queue: 'not a queue' is not a queue name")]
    [InlineData("Conveyor:FireAndForget:Queue", "..", "Conveyor:FireAndForget:Queue: '..' is not a queue name (1 to 64 letters, digits, '_', '-' or '.', not '.' or '..')")]
    public async Task Start_WithAnInvalidSetting_FailsNamingTheSettingAndWhatItAccepts(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            using var host = BuildHost(new() { [key] = value });
            await host.StartAsync();
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithAnUnknownFullMode_FailsNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            using var host = BuildHost(new() { ["Conveyor:FireAndForget:FullMode"] = "Sometimes" });
            await host.StartAsync();
        });

        Assert.Contains("Conveyor:FireAndForget:FullMode is 'Sometimes'; it accepts one of: Drop, Wait.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_BindFromConfiguration_AndCodeConfigurationAppliesAfterThem()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conveyor:FireAndForget:Queue"] = "analytics",
            ["Conveyor:FireAndForget:FullMode"] = "Wait",
            ["Conveyor:FireAndForget:BufferCapacity"] = "500",
        });
        builder.Services.AddConveyor().UseInMemoryStore().AddFireAndForget(o => o.BufferCapacity = 700).AddFireAndForget();
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<FireAndForgetOptions>>().Value;

        Assert.Equal("analytics", options.Queue);
        Assert.Equal(FireAndForgetFullMode.Wait, options.FullMode);
        Assert.Equal(700, options.BufferCapacity);
        Assert.Single(host.Services.GetServices<IHostedService>().OfType<Conveyor.Client.FireAndForget.FireAndForgetPump>());
    }
}
