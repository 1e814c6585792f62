using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conveyor.Storage;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// '.' and '..' are not tenants: a tenant's name may end up in a file path (the bundled server's report sample keeps
/// reports/{tenant}/), where they are the folder itself and its parent. No request and no key may act in them; what a
/// store already holds in them stays readable through every-tenant listings.
/// </summary>
public sealed class DotTenantTests
{
    public static TheoryData<string, string, string?> Requests => new()
    {
        { "POST", "/batches?tenant=..", """{"jobs": [{"type": "test:noop"}]}""" },
        { "POST", "/batches?tenant=.", """{"jobs": [{"type": "test:noop"}]}""" },
        { "POST", "/batches/batch_00000000000000000000000000000000/jobs?tenant=..", """{"jobs": [{"type": "test:noop"}]}""" },
        { "POST", "/workflows?tenant=..", """{"steps": [{"name": "a", "job": {"type": "test:noop"}}]}""" },
        { "GET", "/jobs?tenant=..", null },
        { "GET", "/schedules?tenant=.", null },
        { "GET", "/jobs/job_00000000000000000000000000000000?tenant=..", null },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task AdminKey_NamingTenantDotOrDotDot_Is400NamingTenant_AndStoresNothing(string method, string path, string? body)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var response = await app.CallAsync(new HttpMethod(method), path, body, TestApp.AdminKey);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "tenant");
        Assert.Contains("cannot be a tenant", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await app.StoredJobsAsync(".."));
        Assert.Empty(await app.StoredJobsAsync("."));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    public async Task KeyWithTenantDotOrDotDot_StopsTheStart_SayingWhy(string tenant)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () => await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Keys:0:Key"] = TestApp.KeyA,
            ["Keys:0:Tenant"] = tenant,
        }));

        Assert.Contains($"Conveyor:Api:Keys:0:Tenant: '{tenant}' cannot be a tenant id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyWithTenantStar_StopsTheStart_PointingToAdminKeys()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () => await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Keys:0:Key"] = TestApp.KeyA,
            ["Keys:0:Tenant"] = "*",
        }));

        Assert.DoesNotContain("is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("Conveyor:Api:Keys:0:Tenant cannot be '*'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Conveyor:Api:Keys:0:Admin = true", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsAndSchedulesAStoreHoldsInTenantDotDot_AreListedForEveryTenant_PageByPage()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var job = await app.Store.EnqueueAsync(
            new NewJob { Id = JobId.New(), Type = "test:noop", Queue = QueueName.Default, Tenant = "..", Payload = "{}"u8.ToArray(), MaxRetry = 0, Retention = TimeSpan.FromDays(1) },
            CancellationToken.None);
        foreach (var (tenant, name) in new[] { ("..", "a"), ("..", "b"), ("ops", "c") })
        {
            await app.Store.TryCreateScheduleAsync(new ScheduleRecord
            {
                Tenant = tenant,
                Name = name,
                Cron = "0 3 * * *",
                TimeZone = "UTC",
                JobType = "test:noop",
                Payload = "{}"u8.ToArray(),
                Origin = ScheduleOrigin.Runtime,
                NextFireAt = DateTimeOffset.UtcNow.AddHours(1),
            }, CancellationToken.None);
        }

        using var jobs = await app.CallAsync(HttpMethod.Get, "/jobs?tenant=*", null, TestApp.AdminKey);
        var names = new List<string>();
        var path = "/schedules?tenant=*&limit=1";
        while (true)
        {
            using var page = await app.CallAsync(HttpMethod.Get, path, null, TestApp.AdminKey);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var body = await page.Content.ReadFromJsonAsync<JsonElement>();
            names.AddRange(body.GetProperty("schedules").EnumerateArray().Select(s => $"{s.GetProperty("tenant").GetString()}/{s.GetProperty("name").GetString()}"));
            if (body.GetProperty("next_cursor").GetString() is not { } cursor)
            {
                break;
            }

            path = "/schedules?tenant=*&limit=1&cursor=" + Uri.EscapeDataString(cursor);
        }

        var listed = (await jobs.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobs").EnumerateArray().Single();
        Assert.Equal((job.JobId, ".."), (listed.GetProperty("job_id").GetString(), listed.GetProperty("tenant").GetString()));
        Assert.Equal(["../a", "../b", "ops/c"], names);
    }
}
