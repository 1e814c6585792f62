using System.Net;

namespace Conveyor.AspNetCore.Tests;

public sealed class TenancyTests
{
    [Fact]
    public async Task Request_WithoutKey_Returns401WithWwwAuthenticate()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var response = await app.PostJobAsync("""{"type": "test:noop"}""");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Empty(await app.StoredJobsAsync("tenant-a"));
    }

    [Fact]
    public async Task Request_WithUnknownKey_Returns401()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var response = await app.SendAsync(HttpMethod.Get, "/jobs", "key-nobody-was-ever-given-123");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Key_InTheXApiKeyHeader_IsAccepted()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/jobs");
        request.Headers.Add("X-Api-Key", TestApp.KeyA);

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TwoDifferentKeysInTheTwoHeaders_Are401_TheSameKeyInBoth_IsAccepted()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var both = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = TestApp.Json("""{"type": "test:noop"}""") };
        both.Headers.Add("X-Api-Key", TestApp.KeyA);
        both.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestApp.KeyB);
        using var ambiguous = await app.Client.SendAsync(both);
        using var same = new HttpRequestMessage(HttpMethod.Get, "/jobs");
        same.Headers.Add("X-Api-Key", TestApp.KeyA);
        same.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestApp.KeyA);
        using var agreed = await app.Client.SendAsync(same);

        await ProblemAssert.IsProblemAsync(ambiguous, HttpStatusCode.Unauthorized);
        Assert.Empty(await app.StoredJobsAsync("tenant-a"));
        Assert.Empty(await app.StoredJobsAsync("tenant-b"));
        Assert.Equal(HttpStatusCode.OK, agreed.StatusCode);
    }

    [Fact]
    public async Task OneHeaderTwice_WithTheSameKey_IsThatKey_WithTwoKeys_Is401()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var twice = new HttpRequestMessage(HttpMethod.Get, "/jobs");
        twice.Headers.Add("X-Api-Key", [TestApp.KeyA, TestApp.KeyA]);
        using var agreed = await app.Client.SendAsync(twice);
        using var two = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = TestApp.Json("""{"type": "test:noop"}""") };
        two.Headers.Add("X-Api-Key", [TestApp.KeyA, TestApp.KeyB]);
        using var ambiguous = await app.Client.SendAsync(two);
        using var bearerTwice = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = TestApp.Json("""{"type": "test:noop"}""") };
        bearerTwice.Headers.TryAddWithoutValidation("Authorization", ["Bearer " + TestApp.KeyA, "Bearer " + TestApp.KeyB]);
        using var ambiguousBearer = await app.Client.SendAsync(bearerTwice);

        Assert.Equal(HttpStatusCode.OK, agreed.StatusCode);
        await ProblemAssert.IsProblemAsync(ambiguous, HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(ambiguousBearer, HttpStatusCode.Unauthorized);
        Assert.Empty(await app.StoredJobsAsync("tenant-a"));
        Assert.Empty(await app.StoredJobsAsync("tenant-b"));
    }

    [Fact]
    public async Task Job_IsStoredUnderTheTenantOfTheKey_IncludingKeysConfiguredByHash()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        await app.CreateAsync(key: TestApp.KeyA);
        await app.CreateAsync(key: TestApp.KeyB);

        Assert.Single(await app.StoredJobsAsync("tenant-a"));
        Assert.Single(await app.StoredJobsAsync("tenant-b"));
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("POST", "/cancel")]
    [InlineData("POST", "/retry")]
    [InlineData("DELETE", "")]
    public async Task AnotherTenantsJob_Is404_AndUntouched(string method, string suffix)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var jobId = await app.CreateAsync(key: TestApp.KeyA);

        using var response = await app.SendAsync(new HttpMethod(method), $"/jobs/{jobId}{suffix}", TestApp.KeyB);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
        var job = await app.GetJobAsync(jobId, TestApp.KeyA);
        Assert.Equal("QUEUED", job.GetProperty("status").GetString());
    }

    [Fact]
    public async Task List_ShowsOnlyTheCallersJobs()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var mine = await app.CreateAsync(key: TestApp.KeyA);
        await app.CreateAsync(key: TestApp.KeyB);

        using var response = await app.SendAsync(HttpMethod.Get, "/jobs", TestApp.KeyA);

        var jobs = (await ProblemAssert.ReadJsonAsync(response)).GetProperty("jobs");
        Assert.Equal(mine, Assert.Single(jobs.EnumerateArray()).GetProperty("job_id").GetString());
    }

    [Fact]
    public async Task Queues_WithATenantKey_Return403_AndWithAnAdminKey_200()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var tenant = await app.SendAsync(HttpMethod.Get, "/queues", TestApp.KeyA);
        using var pause = await app.SendAsync(HttpMethod.Post, "/queues/default/pause", TestApp.KeyA);
        using var admin = await app.SendAsync(HttpMethod.Get, "/queues", TestApp.AdminKey);

        await ProblemAssert.IsProblemAsync(tenant, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(pause, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task Caller_AnswersEveryKey_WithItsTenant_AndWhetherItIsAnAdminKey()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var tenant = await app.SendAsync(HttpMethod.Get, "/caller", TestApp.KeyB);
        using var admin = await app.SendAsync(HttpMethod.Get, "/caller", TestApp.AdminKey);
        using var none = await app.SendAsync(HttpMethod.Get, "/caller");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (tenant.StatusCode, admin.StatusCode));
        var a = await ProblemAssert.ReadJsonAsync(tenant);
        Assert.Equal(("tenant-b", false), (a.GetProperty("tenant").GetString(), a.GetProperty("admin").GetBoolean()));
        var b = await ProblemAssert.ReadJsonAsync(admin);
        Assert.Equal(("ops", true), (b.GetProperty("tenant").GetString(), b.GetProperty("admin").GetBoolean()));
        await ProblemAssert.IsProblemAsync(none, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Caller_OnAServerWithoutKeys_IsAnAdminOfTheDefaultTenant()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, "/caller");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var caller = await ProblemAssert.ReadJsonAsync(response);
        Assert.Equal((TenantId.Default, true), (caller.GetProperty("tenant").GetString(), caller.GetProperty("admin").GetBoolean()));
    }

    [Fact]
    public async Task Health_AndMetrics_NeedNoKey()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var health = await app.SendAsync(HttpMethod.Get, "/healthz");
        using var metrics = await app.SendAsync(HttpMethod.Get, "/metrics");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }
}
