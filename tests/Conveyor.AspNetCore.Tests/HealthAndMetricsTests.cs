using System.Net;
using System.Reflection;
using Conveyor.Storage;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Conveyor.AspNetCore.Tests;

public sealed class HealthAndMetricsTests
{
    [Fact]
    public async Task Healthz_And_Readyz_Return200()
    {
        await using var app = await TestApp.StartAsync();

        using var health = await app.SendAsync(HttpMethod.Get, "/healthz");
        using var ready = await app.SendAsync(HttpMethod.Get, "/readyz");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("memory", (await ProblemAssert.ReadJsonAsync(ready)).GetProperty("store").GetString());
    }

    [Fact]
    public async Task Healthz_And_Readyz_AnswerHead_WithTheStatusAndNoBody()
    {
        await using var app = await TestApp.StartAsync(kestrel: true);
        using var client = new HttpClient { BaseAddress = app.Address };

        using var health = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthz"));
        using var ready = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/readyz"));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Empty(await health.Content.ReadAsByteArrayAsync());
        Assert.Empty(await ready.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task StoreDown_Readyz_Returns503_AndTheApi503()
    {
        await using var app = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>(UnavailableStore.Create())));

        using var ready = await app.SendAsync(HttpMethod.Get, "/readyz");
        using var get = await app.SendAsync(HttpMethod.Get, "/jobs/job_00000000000000000000000000000000");
        using var post = await app.PostJobAsync("""{"type": "test:noop"}""");

        await ProblemAssert.IsProblemAsync(ready, HttpStatusCode.ServiceUnavailable);
        await ProblemAssert.IsProblemAsync(get, HttpStatusCode.ServiceUnavailable);
        await ProblemAssert.IsProblemAsync(post, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(get.Headers.RetryAfter);
    }

    [Fact]
    public async Task StoreDown_EachRefusedRequest_LogsOneLineWithTheReason_AndNoStackTrace()
    {
        var logs = new CapturingLoggerProvider();
        await using var app = await TestApp.StartAsync(services: s =>
        {
            s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs);
            s.Replace(ServiceDescriptor.Singleton<IJobStore>(UnavailableStore.Create()));
        });

        using var get = await app.SendAsync(HttpMethod.Get, "/jobs/job_00000000000000000000000000000000");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, get.StatusCode);
        var line = Assert.Single(logs.Entries, e => e.EventId.Id == 1005);
        Assert.Equal("GET /jobs/job_00000000000000000000000000000000: the down store is unavailable; answered 503. connection refused (test)", line.Message);
        Assert.Null(line.Exception);
    }

    [Fact]
    public async Task Metrics_ExposeTheContractNames_InPrometheusText()
    {
        // Exact counts: a lease long enough that a loaded machine cannot lose it and run the job a second time.
        await using var app = await TestApp.StartAsync(withWorkers: true, services: s => s.Configure<JobServerOptions>(o => o.LeaseDuration = TimeSpan.FromSeconds(30)));
        var jobId = await app.CreateAsync();
        await app.WaitForStatusAsync(jobId, null, "SUCCESS");
        await app.CreateAsync(extra: """, "queue": "low" """);

        var text = "";
        var deadline = DateTime.UtcNow.AddSeconds(10);
        // The store gauges are cached for a second (TestApp): wait for both the counter and the gauge to show the job.
        while (!text.Contains("job_processed_total{task_type=\"test:noop\",queue=\"default\",status=\"success\"} 1", StringComparison.Ordinal)
            || !text.Contains("job_queue_size{queue=\"default\",state=\"succeeded\"} 1", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, text);
            using var response = await app.SendAsync(HttpMethod.Get, "/metrics");
            Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
            text = await response.Content.ReadAsStringAsync();
            await Task.Delay(20);
        }

        Assert.Contains("# TYPE job_processed_total counter", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE job_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("job_duration_seconds_bucket{task_type=\"test:noop\",queue=\"default\",le=\"+Inf\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("job_duration_seconds_count{task_type=\"test:noop\",queue=\"default\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("job_duration_seconds_sum{task_type=\"test:noop\",queue=\"default\"} ", text, StringComparison.Ordinal);
        Assert.Contains("job_enqueued_total{task_type=\"test:noop\",queue=\"default\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE job_in_progress gauge", text, StringComparison.Ordinal);
        Assert.Contains("job_queue_size{queue=\"default\",state=\"succeeded\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("job_queue_latency_seconds{queue=\"default\"} 0", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_OfTwoAppsInOneProcess_DoNotMix()
    {
        await using var first = await TestApp.StartAsync(withWorkers: true);
        await using var second = await TestApp.StartAsync();
        var jobId = await first.CreateAsync();
        await first.WaitForStatusAsync(jobId, null, "SUCCESS");

        using var response = await second.SendAsync(HttpMethod.Get, "/metrics");

        Assert.DoesNotContain("job_processed_total{", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>A store whose every call fails as a store does when its server is unreachable.</summary>
    public class UnavailableStore : DispatchProxy
    {
        public static IJobStore Create() => Create<IJobStore, UnavailableStore>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == "get_Name")
            {
                return "down";
            }

            throw new JobStoreUnavailableException("connection refused (test)");
        }
    }
}
