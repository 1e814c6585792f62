using System.Net;
using System.Text.Json;

namespace Conveyor.AspNetCore.Tests;

public sealed class QueuesTests
{
    [Fact]
    public async Task List_CountsJobsByStatusPerQueue()
    {
        await using var app = await TestApp.StartAsync();
        await app.CreateAsync();
        await app.CreateAsync();
        await app.CreateAsync(extra: """, "queue": "low" """);

        using var response = await app.SendAsync(HttpMethod.Get, "/queues");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var queues = (await ProblemAssert.ReadJsonAsync(response)).GetProperty("queues").EnumerateArray().ToDictionary(q => q.GetProperty("name").GetString()!);
        Assert.Equal(2, queues["default"].GetProperty("queued").GetInt64());
        Assert.Equal(1, queues["low"].GetProperty("queued").GetInt64());
        Assert.False(queues["low"].GetProperty("paused").GetBoolean());
        Assert.True(queues["low"].GetProperty("latency_seconds").GetDouble() >= 0);
    }

    [Fact]
    public async Task PauseThenResume_StopsAndRestartsTheWorkers()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);

        using var pause = await app.SendAsync(HttpMethod.Post, "/queues/default/pause");
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        Assert.True((await ProblemAssert.ReadJsonAsync(pause)).GetProperty("paused").GetBoolean());
        var jobId = await app.CreateAsync();
        // A job of another queue, enqueued after it, runs to the end: the workers were fetching all along, and
        // still left the paused queue's job alone.
        var witness = await app.CreateAsync(extra: ", \"queue\": \"low\"");
        await app.WaitForStatusAsync(witness, null, "SUCCESS");
        Assert.Equal("QUEUED", (await app.GetJobAsync(jobId)).GetProperty("status").GetString());

        using var resume = await app.SendAsync(HttpMethod.Post, "/queues/default/resume");

        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.False((await ProblemAssert.ReadJsonAsync(resume)).GetProperty("paused").GetBoolean());
        await app.WaitForStatusAsync(jobId, null, "SUCCESS");
    }

    [Fact]
    public async Task Pause_InvalidQueueName_Returns400NamingIt()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Post, "/queues/" + Uri.EscapeDataString("bad queue") + "/pause");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "name");
    }

    [Fact]
    public async Task Pause_QueueWithoutJobs_IsListedAsPaused()
    {
        await using var app = await TestApp.StartAsync();

        (await app.SendAsync(HttpMethod.Post, "/queues/empty/pause")).Dispose();
        using var response = await app.SendAsync(HttpMethod.Get, "/queues");

        var queue = Assert.Single((await ProblemAssert.ReadJsonAsync(response)).GetProperty("queues").EnumerateArray());
        Assert.Equal("empty", queue.GetProperty("name").GetString());
        Assert.True(queue.GetProperty("paused").GetBoolean());
        Assert.Equal(JsonValueKind.Number, queue.GetProperty("queued").ValueKind);
    }
}
