using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Conveyor.AspNetCore.Tests;

/// <summary>Schedules belong to the tenant of the API key that created them: another tenant neither sees nor touches them.</summary>
public sealed class ScheduleTenancyTests
{
    [Fact]
    public async Task AnotherTenantsSchedule_Is404ForEveryOperation_AndNeverListed()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        using var created = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody("report:nightly"), TestApp.KeyA);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        foreach (var (method, path) in new[]
        {
            ("GET", "/schedules/report:nightly"),
            ("DELETE", "/schedules/report:nightly"),
            ("POST", "/schedules/report:nightly/pause"),
            ("POST", "/schedules/report:nightly/resume"),
            ("POST", "/schedules/report:nightly/trigger"),
        })
        {
            using var response = await app.CallAsync(new HttpMethod(method), path, null, TestApp.KeyB);
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
        }

        using var listB = await app.CallAsync(HttpMethod.Get, "/schedules", null, TestApp.KeyB);
        Assert.Equal(0, (await listB.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("schedules").GetArrayLength());
        using var listA = await app.CallAsync(HttpMethod.Get, "/schedules", null, TestApp.KeyA);
        Assert.Equal(1, (await listA.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("schedules").GetArrayLength());

        // Untouched: not paused, not triggered, not deleted.
        var stored = await app.Store.GetScheduleAsync("tenant-a", "report:nightly", CancellationToken.None);
        Assert.NotNull(stored);
        Assert.False(stored.Paused);
        Assert.Null(stored.LastJobId);
        Assert.Empty(await app.StoredJobsAsync("tenant-b"));
    }

    [Fact]
    public async Task Names_ArePerTenant_TheSameNameInTwoTenantsIsTwoSchedules()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var a = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody("sync", "0 1 * * *"), TestApp.KeyA);
        using var b = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody("sync", "0 2 * * *"), TestApp.KeyB);
        using var putB = await app.CallAsync(HttpMethod.Put, "/schedules/sync", """{"cron": "0 5 * * *", "job_type": "test:noop"}""", TestApp.KeyB);
        using var trigger = await app.CallAsync(HttpMethod.Post, "/schedules/sync/trigger", null, TestApp.KeyB);

        Assert.Equal(HttpStatusCode.Created, a.StatusCode);
        Assert.Equal(HttpStatusCode.Created, b.StatusCode);
        Assert.Equal(HttpStatusCode.OK, putB.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, trigger.StatusCode);
        Assert.Equal("0 1 * * *", (await app.Store.GetScheduleAsync("tenant-a", "sync", CancellationToken.None))!.Cron);
        Assert.Equal("0 5 * * *", (await app.Store.GetScheduleAsync("tenant-b", "sync", CancellationToken.None))!.Cron);
        var job = Assert.Single(await app.StoredJobsAsync("tenant-b"));
        Assert.Equal("tenant-b", job.Tenant);
        Assert.Empty(await app.StoredJobsAsync("tenant-a"));
    }

    [Fact]
    public async Task WithoutAKey_EverySchedulesEndpointIs401()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        foreach (var (method, path) in new[] { ("GET", "/schedules"), ("GET", "/schedules/x"), ("POST", "/schedules"), ("PUT", "/schedules/x"), ("DELETE", "/schedules/x"), ("POST", "/schedules/x/trigger") })
        {
            using var response = await app.CallAsync(new HttpMethod(method), path, method is "POST" or "PUT" ? ScheduleApiClient.MinimalBody("x") : null);
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        }

        Assert.Empty(await app.Store.ListSchedulesAsync(null, CancellationToken.None));
    }
}
