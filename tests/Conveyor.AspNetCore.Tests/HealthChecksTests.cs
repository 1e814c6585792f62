using System.Net;
using System.Text.Json;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using static Conveyor.AspNetCore.Tests.StoreOutageTests;

namespace Conveyor.AspNetCore.Tests;

/// <summary>/healthz and /readyz on ASP.NET Core's health checks: Conveyor's checks, the application's own, and their bounds.</summary>
public sealed class HealthChecksTests
{
    [Fact]
    public async Task Readyz_ShowsConveyorsChecks_AndTheApplicationsOwn()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true, services: s => s.AddHealthChecks()
            .AddCheck("disk", () => HealthCheckResult.Healthy("plenty of space"), tags: ["ready"]));

        // Ready once the worker server has registered its first heartbeat, a moment after the start.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var ready = await app.SendAsync(HttpMethod.Get, "/readyz");
        while (ready.StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            ready.Dispose();
            await Task.Delay(50);
            ready = await app.SendAsync(HttpMethod.Get, "/readyz");
        }

        using var answer = ready;
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = await ProblemAssert.ReadJsonAsync(ready);
        Assert.Equal("ready", body.GetProperty("status").GetString());
        var checks = body.GetProperty("checks");
        Assert.Equal(["conveyor_queue_latency", "conveyor_server", "conveyor_store", "disk"], checks.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());
        Assert.All(checks.EnumerateObject(), p => Assert.Equal("Healthy", p.Value.GetProperty("status").GetString()));
        Assert.Equal("plenty of space", checks.GetProperty("disk").GetProperty("description").GetString());
        Assert.Contains("runs; last heartbeat", checks.GetProperty("conveyor_server").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_StaysTheSmallAnswer_WithoutLivenessChecks()
    {
        await using var app = await TestApp.StartAsync();

        using var health = await app.SendAsync(HttpMethod.Get, "/healthz");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("""{"status":"ok"}""", await health.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnApplicationsFailingReadinessCheck_MakesReadyz503_NamingIt()
    {
        await using var app = await TestApp.StartAsync(services: s => s.AddHealthChecks()
            .AddCheck("payments", () => HealthCheckResult.Unhealthy("the payments API does not answer"), tags: ["ready"]));

        using var ready = await app.SendAsync(HttpMethod.Get, "/readyz");
        using var health = await app.SendAsync(HttpMethod.Get, "/healthz");

        var problem = await ProblemAssert.IsProblemAsync(ready, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Not ready.", problem.GetProperty("title").GetString());
        Assert.Contains("payments: the payments API does not answer", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("Unhealthy", problem.GetProperty("checks").GetProperty("payments").GetProperty("status").GetString());
        Assert.Equal("Healthy", problem.GetProperty("checks").GetProperty("conveyor_store").GetProperty("status").GetString());
        // Readiness checks are not liveness checks: the process is not restarted for a dependency.
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task AnApplicationsFailingLivenessCheck_MakesHealthz503()
    {
        await using var app = await TestApp.StartAsync(services: s => s.AddHealthChecks()
            .AddCheck("deadlock", () => HealthCheckResult.Unhealthy("the main loop is stuck"), tags: ["live"]));

        using var health = await app.SendAsync(HttpMethod.Get, "/healthz");

        var problem = await ProblemAssert.IsProblemAsync(health, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("deadlock: the main loop is stuck", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreThatHangs_Readyz503_WithinTheStoreTimeout_NeverHangs()
    {
        var store = SwitchableStore.Create(new InMemoryJobStore(TimeProvider.System));
        ((SwitchableStore)(object)store).HangLookups = true;
        await using var app = await TestApp.StartAsync(services: s =>
        {
            s.Replace(ServiceDescriptor.Singleton<IJobStore>(store));
            s.AddHealthChecks().AddConveyor(o => o.StoreTimeout = TimeSpan.FromMilliseconds(300));
        });

        // The deadline is the test's guard against a hang, far above the 0.3 s bound.
        using var ready = await app.SendAsync(HttpMethod.Get, "/readyz").WaitAsync(TimeSpan.FromSeconds(30));

        var problem = await ProblemAssert.IsProblemAsync(ready, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("The job store does not answer.", problem.GetProperty("title").GetString());
        Assert.Equal("The switchable store did not answer within 0.3 s.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ACheckThatIgnoresItsToken_CannotHoldReadyz_PastTheProbeTimeout()
    {
        await using var app = await TestApp.StartAsync(services: s => s.AddHealthChecks()
            .AddAsyncCheck("stuck", async () => { await Task.Delay(Timeout.Infinite, CancellationToken.None); return HealthCheckResult.Healthy(); }, tags: ["ready"])
            .AddConveyor(o => o.ProbeTimeout = TimeSpan.FromMilliseconds(300)));

        using var ready = await app.SendAsync(HttpMethod.Get, "/readyz").WaitAsync(TimeSpan.FromSeconds(30));

        var problem = await ProblemAssert.IsProblemAsync(ready, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("did not finish within 0.3 s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueueLatencyOverItsThreshold_IsDegraded_StillReady200()
    {
        await using var app = await TestApp.StartAsync(services: s => s.AddHealthChecks().AddConveyor(o =>
        {
            o.QueueLatencyThreshold = TimeSpan.FromHours(1);
            o.QueueLatencyThresholds["default"] = TimeSpan.FromMilliseconds(1);
        }));
        // No workers: both jobs stay pending.
        await app.CreateAsync();
        await app.CreateAsync(extra: """, "queue": "low" """);

        JsonElement body = default;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (body.ValueKind == JsonValueKind.Undefined || body.GetProperty("status").GetString() != "degraded")
        {
            Assert.True(DateTime.UtcNow < deadline, body.ToString());
            using var ready = await app.SendAsync(HttpMethod.Get, "/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            body = await ProblemAssert.ReadJsonAsync(ready);
        }

        var latency = body.GetProperty("checks").GetProperty("conveyor_queue_latency");
        Assert.Equal("Degraded", latency.GetProperty("status").GetString());
        var description = latency.GetProperty("description").GetString()!;
        Assert.Contains("default ", description, StringComparison.Ordinal);
        Assert.DoesNotContain("low ", description, StringComparison.Ordinal);
        Assert.Equal("memory", body.GetProperty("store").GetString());
    }

    [Fact]
    public async Task APausedQueue_IsNotDegraded_ByItsWaitingJobs()
    {
        await using var app = await TestApp.StartAsync(services: s => s.AddHealthChecks().AddConveyor(o => o.QueueLatencyThreshold = TimeSpan.FromMilliseconds(1)));
        await app.Store.PauseQueueAsync("default", CancellationToken.None);
        await app.CreateAsync();
        var time = app.Services.GetRequiredService<TimeProvider>();
        var created = time.GetUtcNow();
        while (time.GetUtcNow() - created < TimeSpan.FromMilliseconds(20))
        {
            await Task.Yield();
        }

        using var ready = await app.SendAsync(HttpMethod.Get, "/readyz");

        var body = await ProblemAssert.ReadJsonAsync(ready);
        Assert.Equal("ready", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ServerHeartbeat_NotTakenByTheStore_MakesReadyz503_NamingTheServer()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = SwitchableStore.Create(new InMemoryJobStore(time));
        await using var app = await TestApp.StartAsync(withWorkers: true, services: s =>
        {
            s.Replace(ServiceDescriptor.Singleton<TimeProvider>(time));
            s.Replace(ServiceDescriptor.Singleton<IJobStore>(store));
        });
        var server = app.Services.GetRequiredService<JobServer>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var first = await app.SendAsync(HttpMethod.Get, "/readyz");
            if (first.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "no first heartbeat: " + await first.Content.ReadAsStringAsync());
            await Task.Delay(10);
        }

        ((SwitchableStore)(object)store).Down = true;
        // The heartbeat expires after 15 s (three beats of 5 s).
        time.Advance(TimeSpan.FromSeconds(16));
        using var ready = await app.SendAsync(HttpMethod.Get, "/readyz");

        var problem = await ProblemAssert.IsProblemAsync(ready, HttpStatusCode.ServiceUnavailable);
        var heartbeat = problem.GetProperty("checks").GetProperty("conveyor_server");
        Assert.Equal("Unhealthy", heartbeat.GetProperty("status").GetString());
        Assert.Contains($"{server.ServerId} made its last heartbeat 16 s ago", heartbeat.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutWorkers_TheServerCheckSaysSo()
    {
        await using var app = await TestApp.StartAsync();

        using var ready = await app.SendAsync(HttpMethod.Get, "/readyz");

        var server = (await ProblemAssert.ReadJsonAsync(ready)).GetProperty("checks").GetProperty("conveyor_server");
        Assert.Equal("No worker server runs in this process.", server.GetProperty("description").GetString());
    }

    [Fact]
    public async Task AddConveyor_Twice_RegistersEachCheckOnce()
    {
        await using var app = await TestApp.StartAsync(services: s => s.AddHealthChecks().AddConveyor().AddConveyor(o => o.QueueLatencyThreshold = TimeSpan.FromMinutes(5)));

        using var ready = await app.SendAsync(HttpMethod.Get, "/readyz");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(3, (await ProblemAssert.ReadJsonAsync(ready)).GetProperty("checks").EnumerateObject().Count());
    }

    [Theory]
    [InlineData("StoreTimeout", "00:00:00.01", "Conveyor:Health:StoreTimeout must be between")]
    [InlineData("ProbeTimeout", "01:00:00", "Conveyor:Health:ProbeTimeout must be between")]
    [InlineData("QueueLatencyThreshold", "-00:00:01", "Conveyor:Health:QueueLatencyThreshold must be more than 0")]
    [InlineData("QueueLatencyThresholds:bad queue", "00:00:10", "'bad queue' is not a queue name")]
    public void BadSettings_AreRefused_NamingTheSetting(string key, string value, string message)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Conveyor:Health:" + key] = value }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddHealthChecks().AddConveyor();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<ConveyorHealthOptions>>().Value);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
