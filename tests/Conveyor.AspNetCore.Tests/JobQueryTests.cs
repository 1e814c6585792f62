using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore.Tests;

public sealed class JobQueryTests
{
    [Fact]
    public async Task Get_ExistingJob_ReturnsEveryFieldOfTheContract()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync();

        var job = await app.GetJobAsync(jobId);

        string[] fields =
        [
            "job_id", "type", "queue", "tenant", "status", "progress", "payload", "result_url", "result", "errors", "attempts", "max_retry",
            "created_at", "updated_at", "scheduled_at", "started_at", "completed_at", "snoozed_reason",
        ];
        foreach (var field in fields)
        {
            Assert.True(job.TryGetProperty(field, out _), $"missing {field}: {job}");
        }

        Assert.Equal(jobId, job.GetProperty("job_id").GetString());
        Assert.Equal("QUEUED", job.GetProperty("status").GetString());
        Assert.Equal(1, job.GetProperty("payload").GetProperty("n").GetInt32());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("completed_at").ValueKind);
        Assert.EndsWith("Z", job.GetProperty("updated_at").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_JobOfATypeNoServerHereHandles_IsScheduledWithItsSnoozedReason_NoErrorAndNoStart()
    {
        // No attempt counted: a lease long enough that a loaded machine cannot lose it before the snooze is stored.
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["JobTypes:0"] = "remote:work" }, withWorkers: true,
            services: s => s.Configure<JobServerOptions>(o => o.LeaseDuration = TimeSpan.FromSeconds(30)));
        var jobId = await app.CreateAsync("remote:work");

        var job = await app.WaitForStatusAsync(jobId, null, "SCHEDULED", "FAILED");

        Assert.Equal("SCHEDULED", job.GetProperty("status").GetString());
        Assert.Contains("'remote:work'", job.GetProperty("snoozed_reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, job.GetProperty("attempts").GetInt32());
        Assert.Equal(0, job.GetProperty("errors").GetArrayLength());
        Assert.NotEqual(JsonValueKind.Null, job.GetProperty("scheduled_at").ValueKind);

        // The lease it was handed back from did not count: a start time would say a worker ran it.
        Assert.Equal(JsonValueKind.Null, job.GetProperty("started_at").ValueKind);
    }

    [Fact]
    public async Task Get_FailedJob_ShowsTheStackTraceOfItsError()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var jobId = await app.CreateAsync("test:fail");

        var job = await app.WaitForStatusAsync(jobId, null, "FAILED");

        var error = job.GetProperty("errors")[0];
        Assert.Equal("Conveyor.SkipRetryException", error.GetProperty("exception_type").GetString());
        var stack = error.GetProperty("stack_trace").GetString();
        Assert.Contains("at ", stack, StringComparison.Ordinal);
        Assert.True(stack!.Length <= JobError.MaxStackTraceLength);
    }

    [Fact]
    public async Task List_FailedJob_LeavesOutItsErrorsStackTracesWhichItsOwnReadShows()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var jobId = await app.CreateAsync("test:fail");
        await app.WaitForStatusAsync(jobId, null, "FAILED");

        using var response = await app.SendAsync(HttpMethod.Get, "/jobs?type=test:fail&limit=3");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var listed = Assert.Single((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobs").EnumerateArray());
        var error = Assert.Single(listed.GetProperty("errors").EnumerateArray());
        Assert.Equal("Conveyor.SkipRetryException", error.GetProperty("exception_type").GetString());
        Assert.False(error.TryGetProperty("stack_trace", out _));
        Assert.False(listed.TryGetProperty("payload", out _));
        var read = (await app.GetJobAsync(jobId)).GetProperty("errors")[0];
        Assert.Contains("at ", read.GetProperty("stack_trace").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_UnknownJob_Returns404()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, "/jobs/job_00000000000000000000000000000000");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/jobs/has%20space")]
    [InlineData("/jobs/semi%3Bcolon")]
    public async Task Get_JobIdOfTheWrongShape_Returns400NamingIt(string path)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, path);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "job_id");
    }

    [Fact]
    public async Task Get_JobIdTooLong_Returns400NamingIt()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, "/jobs/" + new string('a', 200));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "job_id");
    }

    [Fact]
    public async Task List_FiltersByStatusTypeAndQueue_NewestFirst()
    {
        await using var app = await TestApp.StartAsync();
        var first = await app.CreateAsync();
        var second = await app.CreateAsync(extra: """, "queue": "low" """);
        await app.CreateAsync("test:fail");

        var all = await ListAsync(app, "/jobs");
        var low = await ListAsync(app, "/jobs?queue=low");
        var noop = await ListAsync(app, "/jobs?type=test:noop&status=QUEUED");
        var none = await ListAsync(app, "/jobs?status=SUCCESS");

        Assert.Equal(3, all.GetProperty("jobs").GetArrayLength());
        Assert.Equal(second, Assert.Single(low.GetProperty("jobs").EnumerateArray()).GetProperty("job_id").GetString());
        Assert.Equal(new[] { second, first }, noop.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("job_id").GetString()!).ToArray());
        Assert.Equal(0, none.GetProperty("jobs").GetArrayLength());
        Assert.False(all.GetProperty("jobs")[0].TryGetProperty("payload", out _), "listings leave payloads out");
    }

    [Fact]
    public async Task List_PagesWithTheCursor_UntilTheLastPage()
    {
        await using var app = await TestApp.StartAsync();
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await app.CreateAsync());
        }

        var seen = new List<string>();
        var path = "/jobs?limit=2";
        while (true)
        {
            var page = await ListAsync(app, path);
            seen.AddRange(page.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("job_id").GetString()!));
            if (page.GetProperty("next_cursor").ValueKind == JsonValueKind.Null)
            {
                break;
            }

            path = "/jobs?limit=2&cursor=" + Uri.EscapeDataString(page.GetProperty("next_cursor").GetString()!);
        }

        Assert.Equal(created.AsEnumerable().Reverse(), seen);
    }

    [Fact]
    public async Task List_ACursorWithACharacterAdded_Is400_NotAnotherPosition()
    {
        await using var app = await TestApp.StartAsync();
        await app.CreateAsync();
        await app.CreateAsync();
        var cursor = (await ListAsync(app, "/jobs?limit=1")).GetProperty("next_cursor").GetString()!;

        foreach (var altered in new[] { cursor + "x", cursor + "A", cursor + "xx", cursor + "AA", cursor + "=" })
        {
            using var response = await app.SendAsync(HttpMethod.Get, "/jobs?limit=1&cursor=" + Uri.EscapeDataString(altered));
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "cursor");
        }
    }

    [Theory]
    [InlineData("/jobs", "job_00000000000000000000000000000000")]
    [InlineData("/batches", "batch_00000000000000000000000000000000")]
    public async Task List_ACursorPastTheTimesAStoreHolds_Is400(string path, string id)
    {
        await using var app = await TestApp.StartAsync();
        var cursor = new Conveyor.Storage.JobCursor(long.MaxValue / 10, id).Encode();

        using var response = await app.SendAsync(HttpMethod.Get, $"{path}?cursor={cursor}");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "cursor");
    }

    [Theory]
    [InlineData("/jobs?status=DONE", "status")]
    [InlineData("/jobs?status=", "status")]
    [InlineData("/jobs?type=Bad", "type")]
    [InlineData("/jobs?queue=a%20b", "queue")]
    [InlineData("/jobs?limit=0", "limit")]
    [InlineData("/jobs?limit=-3", "limit")]
    [InlineData("/jobs?limit=201", "limit")]
    [InlineData("/jobs?limit=ten", "limit")]
    [InlineData("/jobs?limit=1%00", "limit")]
    [InlineData("/jobs?limit=%2B1", "limit")]
    [InlineData("/jobs?cursor=garbage!", "cursor")]
    [InlineData("/jobs?sort=asc", "sort")]
    [InlineData("/jobs?status=QUEUED&status=FAILED", "status")]
    public async Task List_BadQueryParameter_Returns400NamingIt(string path, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, path);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task List_LimitWithinAConfiguredMaximum_IsAccepted()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxPageSize"] = "500" });

        using var response = await app.SendAsync(HttpMethod.Get, "/jobs?limit=500");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<JsonElement> ListAsync(TestApp app, string path)
    {
        using var response = await app.SendAsync(HttpMethod.Get, path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ProblemAssert.ReadJsonAsync(response);
    }
}
