using Conveyor.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.Tests;

public sealed class ConveyorApiOptionsTests
{
    [Theory]
    [InlineData("MaxRequestBytes", "10", "Conveyor:Api:MaxRequestBytes")]
    [InlineData("MaxPageSize", "5000", "Conveyor:Api:MaxPageSize")]
    [InlineData("DefaultPageSize", "0", "Conveyor:Api:DefaultPageSize")]
    [InlineData("RateLimit:PermitsPerSecond", "0", "Conveyor:Api:RateLimit:PermitsPerSecond")]
    [InlineData("RateLimit:Burst", "0", "Conveyor:Api:RateLimit:Burst")]
    [InlineData("JobTypes:0", "NotAType", "Conveyor:Api:JobTypes:0")]
    [InlineData("EnqueueBatchSize", "0", "Conveyor:Api:EnqueueBatchSize")]
    [InlineData("StoreTimeout", "00:00:00.500", "Conveyor:Api:StoreTimeout")]
    [InlineData("StoreTimeout", "01:00:00", "Conveyor:Api:StoreTimeout")]
    [InlineData("Keys:0:Key", "short", "Conveyor:Api:Keys:0:Key")]
    [InlineData("Keys:0:KeyHash", "abc", "Conveyor:Api:Keys:0")]
    public async Task InvalidSetting_StopsTheStart_WithAMessageNamingIt(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?> { [key] = value };
        if (key.StartsWith("Keys:", StringComparison.Ordinal))
        {
            settings["Keys:0:Tenant"] = "t";
        }

        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () => await TestApp.StartAsync(settings));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MisspeltKey_StopsTheStart_NamingTheNearestSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            await TestApp.StartAsync(new Dictionary<string, string?> { ["StoreTimout"] = "00:00:05" }));

        Assert.Contains("unknown setting Conveyor:Api:StoreTimout; did you mean Conveyor:Api:StoreTimeout?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MisspeltKeyOfANestedSetting_StopsTheStart_InTheBindersWords()
    {
        // Only the section's own keys are known to the rewording: a nested object's keys keep the binder's message,
        // which names the nested type, rather than a wrong path and the wrong list.
        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(async () =>
            await TestApp.StartAsync(new Dictionary<string, string?> { ["RateLimit:Burts"] = "10" }));

        Assert.Contains("ConveyorApiRateLimitOptions: 'Burts'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyWithoutTenant_StopsTheStart()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            await TestApp.StartAsync(new Dictionary<string, string?> { ["Keys:0:Key"] = "a-long-enough-key-123456" }));

        Assert.Contains("Conveyor:Api:Keys:0:Tenant", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SameKeyTwice_StopsTheStart()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () => await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Keys:0:Key"] = "a-long-enough-key-123456",
            ["Keys:0:Tenant"] = "a",
            ["Keys:1:Key"] = "a-long-enough-key-123456",
            ["Keys:1:Tenant"] = "b",
        }));

        Assert.Contains("Conveyor:Api:Keys:1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://127.0.0.2:8080", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://10.1.2.3:8080", false)]
    [InlineData("http://example.com:80", false)]
    public void IsLoopback_RecognisesLoopbackAddressesOnly(string address, bool expected)
    {
        Assert.Equal(expected, LoopbackGuard.IsLoopback(address));
    }

    [Fact]
    public async Task NoKeys_OnANonLoopbackAddress_RefusesToStart()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://0.0.0.0:0");
        builder.Services.AddConveyor().UseInMemoryStore().AddApi();
        await using var app = builder.Build();
        app.MapConveyorApi();

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Conveyor:Api:Keys", error.Message, StringComparison.Ordinal);
        Assert.Contains("0.0.0.0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoKeys_AnAddressBoundInCode_StopsTheApplicationAsAFailure()
    {
        var exitCode = Environment.ExitCode;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Any, 0));
        builder.Services.AddConveyor().UseInMemoryStore().AddApi();
        await using var app = builder.Build();
        app.MapConveyorApi();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Lifetime.ApplicationStopping.Register(stopping.SetResult);
        try
        {
            await app.StartAsync();
            await stopping.Task.WaitAsync(TimeSpan.FromSeconds(30));

            var guard = app.Services.GetServices<IStartupFilter>().OfType<LoopbackGuard>().Single();
            Assert.Contains("0.0.0.0", guard.StoppedBecause, StringComparison.Ordinal);
            Assert.Equal(1, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = exitCode;
        }
    }

    [Theory]
    [InlineData("10.1.2.3", System.Net.HttpStatusCode.Forbidden)]
    [InlineData("127.0.0.1", System.Net.HttpStatusCode.OK)]
    [InlineData("::ffff:127.0.0.1", System.Net.HttpStatusCode.OK)]
    public async Task NoKeys_ARequestThatReachedANonLoopbackAddress_IsNotAnswered(string localAddress, System.Net.HttpStatusCode expected)
    {
        await using var app = await TestApp.StartAsync();

        var server = (Microsoft.AspNetCore.TestHost.TestServer)app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>();
        var http = await server.SendAsync(c =>
        {
            c.Request.Method = "GET";
            c.Request.Path = "/jobs";
            c.Connection.LocalIpAddress = System.Net.IPAddress.Parse(localAddress);
        });

        Assert.Equal((int)expected, http.Response.StatusCode);
        if (expected == System.Net.HttpStatusCode.Forbidden)
        {
            // A problem that says why, as every other refusal of the API does.
            Assert.Equal("application/problem+json", http.Response.ContentType);
            using var problem = await System.Text.Json.JsonDocument.ParseAsync(http.Response.Body);
            Assert.Contains("loopback", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WithKeys_OnANonLoopbackAddress_Starts()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://0.0.0.0:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conveyor:Api:Keys:0:Key"] = TestApp.KeyA,
            ["Conveyor:Api:Keys:0:Tenant"] = "a",
        });
        builder.Services.AddConveyor().UseInMemoryStore().AddApi();
        await using var app = builder.Build();
        app.MapConveyorApi();

        await app.StartAsync();
        await app.StopAsync();
    }

    [Theory]
    [InlineData("2097152", true)]
    [InlineData("4000000", true)]
    [InlineData("2097151", true)]
    [InlineData("2093056", false)]
    public async Task PayloadLimitWithoutRoomInTheRequestLimit_StartsWithAWarningNamingBoth(string maxPayloadBytes, bool warned)
    {
        var logs = new CapturingLoggerProvider();
        await using var app = await TestApp.StartAsync(services: s =>
        {
            s.AddSingleton<ILoggerProvider>(logs);
            s.Configure<ConveyorOptions>(o => o.MaxPayloadBytes = int.Parse(maxPayloadBytes, System.Globalization.CultureInfo.InvariantCulture));
        });

        var warnings = logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains("Conveyor:MaxPayloadBytes", StringComparison.Ordinal)).ToList();
        Assert.Equal(warned, warnings.Count == 1);
        if (warned)
        {
            Assert.Contains($"Conveyor:MaxPayloadBytes ({maxPayloadBytes}) leaves less than 4 KiB of Conveyor:Api:MaxRequestBytes (2097152)", warnings[0].Message, StringComparison.Ordinal);
        }
    }
}
