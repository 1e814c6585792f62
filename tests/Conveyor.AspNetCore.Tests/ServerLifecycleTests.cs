using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore.Tests;

/// <summary>What the endpoints say while the workers start and drain.</summary>
public sealed class ServerLifecycleTests
{
    [Fact]
    public async Task DuringTheShutdownGrace_Healthz_AnswersDraining_AndReadyz503()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true, services: s => s.PostConfigure<JobServerOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(5)));
        var jobId = await app.CreateAsync("test:wait");
        await app.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var stopping = app.StopAsync();
        var lifetime = app.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>();
        var stopSignalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStopping.Register(stopSignalled.SetResult))
        {
            await stopSignalled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        using var health = await app.SendAsync(HttpMethod.Get, "/healthz");
        using var ready = await app.SendAsync(HttpMethod.Get, "/readyz");

        Assert.False(stopping.IsCompleted, "the grace period ended before the probes were answered");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("draining", (await ProblemAssert.ReadJsonAsync(health)).GetProperty("status").GetString());
        await ProblemAssert.IsProblemAsync(ready, HttpStatusCode.ServiceUnavailable);

        // Let the handler go: a cancel reaches it through its lease, which the draining server keeps extending.
        using var cancel = await app.SendAsync(HttpMethod.Post, $"/jobs/{jobId}/cancel");
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Metrics_BeforeAnyJob_ShowTheCountersAtZero_ForEveryServedQueue()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);

        using var response = await app.SendAsync(HttpMethod.Get, "/metrics");

        var text = await response.Content.ReadAsStringAsync();
        foreach (var queue in new[] { "critical", "default", "low" })
        {
            Assert.Contains($"job_lease_recoveries_total{{queue=\"{queue}\",outcome=\"failed\"}} 0\n", text, StringComparison.Ordinal);
            Assert.Contains($"job_processed_total{{task_type=\"test:noop\",queue=\"{queue}\",status=\"failed\"}} 0\n", text, StringComparison.Ordinal);
        }
    }
}
