using System.Net;
using System.Text.Json;

namespace Conveyor.AspNetCore.Tests;

public sealed class JobCommandTests
{
    private const string UnknownId = "job_00000000000000000000000000000000";

    [Fact]
    public async Task Cancel_QueuedJob_Returns200Cancelled()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync();

        using var response = await app.SendAsync(HttpMethod.Post, $"/jobs/{jobId}/cancel");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("CANCELLED", (await ProblemAssert.ReadJsonAsync(response)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Cancel_RunningJob_Returns202_AndTheHandlersTokenIsCancelled()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var jobId = await app.CreateAsync("test:wait");
        Assert.Equal(jobId, await app.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10)));

        using var response = await app.SendAsync(HttpMethod.Post, $"/jobs/{jobId}/cancel");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"/jobs/{jobId}", response.Headers.Location!.OriginalString);
        Assert.Equal(jobId, await app.WaitCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        var job = await app.WaitForStatusAsync(jobId, null, "CANCELLED");
        Assert.Equal(1, job.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task Cancel_FinishedJob_Returns409()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var jobId = await app.CreateAsync();
        await app.WaitForStatusAsync(jobId, null, "SUCCESS");

        using var response = await app.SendAsync(HttpMethod.Post, $"/jobs/{jobId}/cancel");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Contains("SUCCESS", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_FailedJob_Returns202Queued_AndItRunsAgain()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var jobId = await app.CreateAsync("test:fail");
        await app.WaitForStatusAsync(jobId, null, "FAILED");

        using var response = await app.SendAsync(HttpMethod.Post, $"/jobs/{jobId}/retry");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await app.WaitForStatusAsync(jobId, null, "FAILED");

        // Attempts keep counting across a manual retry: the second run's error is attempt 2, not attempt 1 again.
        Assert.Equal([1, 2], job.GetProperty("errors").EnumerateArray().Select(static e => e.GetProperty("attempt").GetInt32()));
        Assert.Equal(2, job.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task Retry_CancelledJob_Returns202Queued()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync();
        (await app.SendAsync(HttpMethod.Post, $"/jobs/{jobId}/cancel")).Dispose();

        using var response = await app.SendAsync(HttpMethod.Post, $"/jobs/{jobId}/retry");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("QUEUED", (await ProblemAssert.ReadJsonAsync(response)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Commands_AnswerWithTheJobAsListed_WithoutStackTracesOrPayload_WhichTheJobsOwnReadKeeps()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var jobId = await app.CreateAsync("test:fail");
        await app.WaitForStatusAsync(jobId, null, "FAILED");
        // The paused queue keeps the retried job QUEUED, so that the signal and the cancel find it unfinished.
        await app.Store.PauseQueueAsync(QueueName.Default, CancellationToken.None);
        var contract = await OpenApiContract.LoadAsync(app.Client);

        foreach (var (command, template, status) in new[]
        {
            ("retry", "/jobs/{jobId}/retry", HttpStatusCode.Accepted),
            ("signals/approved", "/jobs/{jobId}/signals/{name}", HttpStatusCode.Accepted),
            ("cancel", "/jobs/{jobId}/cancel", HttpStatusCode.OK),
        })
        {
            using var response = await app.PostAsync($"/jobs/{jobId}/{command}", "true");

            await contract.CheckAsync("POST", template, response, status);
            var answer = await ProblemAssert.ReadJsonAsync(response);
            var error = Assert.Single(answer.GetProperty("errors").EnumerateArray());
            Assert.Equal("Conveyor.SkipRetryException", error.GetProperty("exception_type").GetString());
            Assert.False(error.TryGetProperty("stack_trace", out _), $"POST .../{command} answered the error's stack_trace: {answer}");
            Assert.False(answer.TryGetProperty("payload", out _), $"POST .../{command} answered the payload: {answer}");
        }

        var read = await app.GetJobAsync(jobId);
        Assert.Equal("CANCELLED", read.GetProperty("status").GetString());
        Assert.Contains("at ", read.GetProperty("errors")[0].GetProperty("stack_trace").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Object, read.GetProperty("payload").ValueKind);
    }

    [Fact]
    public async Task Retry_QueuedJob_Returns409()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync();

        using var response = await app.SendAsync(HttpMethod.Post, $"/jobs/{jobId}/retry");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Delete_QueuedJob_Returns204_ThenItIsGone()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync();

        using var response = await app.SendAsync(HttpMethod.Delete, $"/jobs/{jobId}");
        using var after = await app.SendAsync(HttpMethod.Get, $"/jobs/{jobId}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await ProblemAssert.IsProblemAsync(after, HttpStatusCode.NotFound);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Delete_RunningJob_Returns409()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var jobId = await app.CreateAsync("test:wait");
        await app.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));

        using var response = await app.SendAsync(HttpMethod.Delete, $"/jobs/{jobId}");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Single(await app.StoredJobsAsync());
    }

    [Theory]
    [InlineData("POST", "/cancel")]
    [InlineData("POST", "/retry")]
    [InlineData("DELETE", "")]
    public async Task Command_UnknownJob_Returns404(string method, string suffix)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(new HttpMethod(method), $"/jobs/{UnknownId}{suffix}");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("POST", "/cancel")]
    [InlineData("POST", "/retry")]
    [InlineData("DELETE", "")]
    public async Task Command_JobIdOfTheWrongShape_Returns400NamingIt(string method, string suffix)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(new HttpMethod(method), $"/jobs/bad%21id{suffix}");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "job_id");
    }
}
