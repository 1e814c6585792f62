using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conveyor.Storage;

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
    public async Task AnAdminKey_NamesTheTenant_AndSeesEveryTenantsSchedules_CodeOnesInTheDefaultTenant()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        await app.Store.TryCreateScheduleAsync(new ScheduleRecord
        {
            Tenant = TenantId.Default,
            Name = "cleanup",
            Cron = "0 3 * * *",
            TimeZone = "UTC",
            JobType = "test:noop",
            Payload = "{}"u8.ToArray(),
            Origin = ScheduleOrigin.Code,
            NextFireAt = DateTimeOffset.UtcNow.AddHours(1),
        }, CancellationToken.None);
        foreach (var (name, key) in new[] { ("sync", TestApp.KeyA), ("sync", TestApp.KeyB), ("audit", TestApp.KeyB) })
        {
            using var created = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody(name), key);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // The admin key's own tenant has none; the default tenant has the one from code; '*' lists all, by tenant then name,
        // a page at a time, each page's cursor naming its tenant.
        Assert.Empty(await NamesAsync(app, "/schedules"));
        Assert.Equal(["default/cleanup"], await NamesAsync(app, "/schedules?tenant=default"));
        Assert.Equal(["default/cleanup", "tenant-a/sync", "tenant-b/audit", "tenant-b/sync"], await NamesAsync(app, "/schedules?tenant=*&limit=1"));

        using var read = await app.CallAsync(HttpMethod.Get, "/schedules/cleanup?tenant=default", null, TestApp.AdminKey);
        Assert.Equal("code", (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("source").GetString());
        using var paused = await app.CallAsync(HttpMethod.Post, "/schedules/sync/pause?tenant=tenant-b", null, TestApp.AdminKey);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.True((await app.Store.GetScheduleAsync("tenant-b", "sync", CancellationToken.None))!.Paused);
        Assert.False((await app.Store.GetScheduleAsync("tenant-a", "sync", CancellationToken.None))!.Paused);
        using var triggered = await app.CallAsync(HttpMethod.Post, "/schedules/cleanup/trigger?tenant=default", null, TestApp.AdminKey);
        Assert.Equal(HttpStatusCode.Accepted, triggered.StatusCode);
        Assert.EndsWith("?tenant=default", triggered.Headers.Location!.ToString(), StringComparison.Ordinal);
        using var job = await app.CallAsync(HttpMethod.Get, triggered.Headers.Location.ToString(), null, TestApp.AdminKey);
        Assert.Equal(HttpStatusCode.OK, job.StatusCode);
        using var deleted = await app.CallAsync(HttpMethod.Delete, "/schedules/audit?tenant=tenant-b", null, TestApp.AdminKey);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Null(await app.Store.GetScheduleAsync("tenant-b", "audit", CancellationToken.None));
    }

    [Theory]
    [InlineData("GET", "/schedules?tenant=tenant-b", "/schedules")]
    [InlineData("GET", "/schedules?tenant=*", "/schedules")]
    [InlineData("GET", "/schedules/sync?tenant=tenant-b", "/schedules/{name}")]
    [InlineData("POST", "/schedules/sync/pause?tenant=tenant-b", "/schedules/{name}/pause")]
    [InlineData("POST", "/schedules/sync/resume?tenant=tenant-b", "/schedules/{name}/resume")]
    [InlineData("POST", "/schedules/sync/trigger?tenant=tenant-b", "/schedules/{name}/trigger")]
    [InlineData("DELETE", "/schedules/sync?tenant=tenant-b", "/schedules/{name}")]
    public async Task ATenantKey_NamingAnotherTenant_Is403AsTheDocumentSays_AndTouchesNothing(string method, string path, string template)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        using var created = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody("sync"), TestApp.KeyB);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var response = await app.CallAsync(new HttpMethod(method), path, null, TestApp.KeyA);

        await contract.CheckAsync(method, template, response, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
        var stored = await app.Store.GetScheduleAsync("tenant-b", "sync", CancellationToken.None);
        Assert.False(stored!.Paused);
        Assert.Null(stored.LastJobId);
    }

    [Theory]
    [InlineData("/schedules?cursor=s.sync&tenant=*")]
    [InlineData("/schedules?cursor=s.tenant-a/sync")]
    [InlineData("/schedules?tenant=*&cursor=s.tenant-a/")]
    [InlineData("/schedules?cursor=sync")]
    [InlineData("/schedules?cursor=MTc5NjM4OTc0ODgwMDA3OHxqb2JfMQ")]
    [InlineData("/schedules?cursor=b.MTc5NjM4OTc0ODgwMDA3OHxqb2JfMQ")]
    [InlineData("/schedules/sync?tenant=*")]
    public async Task ACursorOfAnotherListing_OrEveryTenantForOneSchedule_Is400(string path)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var response = await app.CallAsync(HttpMethod.Get, path, null, TestApp.AdminKey);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    /// <summary>Every page of the admin key's listing at <paramref name="path"/>, as "tenant/name".</summary>
    private static async Task<List<string>> NamesAsync(TestApp app, string path)
    {
        var names = new List<string>();
        string? cursor = null;
        do
        {
            using var response = await app.CallAsync(HttpMethod.Get, cursor is null ? path : $"{path}&cursor={Uri.EscapeDataString(cursor)}", null, TestApp.AdminKey);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.Content.ReadFromJsonAsync<JsonElement>();
            names.AddRange(page.GetProperty("schedules").EnumerateArray().Select(s => $"{s.GetProperty("tenant").GetString()}/{s.GetProperty("name").GetString()}"));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);

        return names;
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
