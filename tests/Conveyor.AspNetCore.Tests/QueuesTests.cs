using System.Net;
using System.Text.Json;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.Tests;

public sealed class QueuesTests
{
    [Fact]
    public async Task List_CountsJobsByStatusPerQueue_WaitingJobsApart()
    {
        await using var app = await TestApp.StartAsync();
        await app.CreateAsync();
        await app.CreateAsync();
        await app.CreateAsync(extra: """, "queue": "low" """);
        // A workflow's second step waits for its first: counted as waiting, not queued.
        using (var workflow = await app.PostAsync("/workflows", """{"steps": [{"name": "a", "job": {"type": "test:noop", "queue": "low"}}, {"name": "b", "job": {"type": "test:noop", "queue": "low"}, "after": ["a"]}]}"""))
        {
            Assert.Equal(HttpStatusCode.Created, workflow.StatusCode);
        }

        using var response = await app.SendAsync(HttpMethod.Get, "/queues");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var queues = (await ProblemAssert.ReadJsonAsync(response)).GetProperty("queues").EnumerateArray().ToDictionary(q => q.GetProperty("name").GetString()!);
        Assert.Equal(2, queues["default"].GetProperty("queued").GetInt64());
        Assert.Equal(0, queues["default"].GetProperty("waiting").GetInt64());
        Assert.Equal(2, queues["low"].GetProperty("queued").GetInt64());
        Assert.Equal(1, queues["low"].GetProperty("waiting").GetInt64());
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
    public async Task List_IncludesEveryQueueALiveServerServes_WithTheNumberOfServers_EvenWithoutJobs()
    {
        await using var app = await TestApp.StartAsync();
        await HeartbeatAsync(app, "worker-1", "emails", "default");
        await HeartbeatAsync(app, "worker-2", "emails");

        var queues = await ListAsync(app);

        Assert.Equal(["default", "emails"], queues.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, queues["emails"].GetProperty("servers").GetInt32());
        Assert.Equal(1, queues["default"].GetProperty("servers").GetInt32());
        Assert.Equal(0, queues["emails"].GetProperty("queued").GetInt64());
        Assert.False(queues["emails"].GetProperty("paused").GetBoolean());
    }

    [Fact]
    public async Task List_QueueWithJobsThatNoServerServes_IsListedWithZeroServers()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["JobTypes:0"] = "remote:work" });
        await HeartbeatAsync(app, "worker-1", "default");
        await app.CreateAsync("remote:work", extra: """, "queue": "orphans" """);

        var queues = await ListAsync(app);

        Assert.Equal(0, queues["orphans"].GetProperty("servers").GetInt32());
        Assert.Equal(1, queues["orphans"].GetProperty("queued").GetInt64());
        Assert.Equal(1, queues["default"].GetProperty("servers").GetInt32());
    }

    [Theory]
    [InlineData("pause")]
    [InlineData("resume")]
    public async Task PauseOrResume_QueueNobodyKnows_Returns404AndPausesNothing(string action)
    {
        await using var app = await TestApp.StartAsync();
        await HeartbeatAsync(app, "worker-1", "default");

        using var response = await app.SendAsync(HttpMethod.Post, $"/queues/emials/{action}");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Contains("emials", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("emials", (await ListAsync(app)).Keys);
    }

    [Fact]
    public async Task Pause_QueueAServerServesWithoutJobs_IsListedAsPaused()
    {
        await using var app = await TestApp.StartAsync();
        await HeartbeatAsync(app, "worker-1", "emails");

        using var pause = await app.SendAsync(HttpMethod.Post, "/queues/emails/pause");

        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        var queue = Assert.Single((await ListAsync(app)).Values);
        Assert.Equal("emails", queue.GetProperty("name").GetString());
        Assert.True(queue.GetProperty("paused").GetBoolean());
        Assert.Equal(1, queue.GetProperty("servers").GetInt32());
    }

    [Fact]
    public async Task Resume_PausedQueueThatNoServerServesAndHoldsNoJobs_IsStillKnownAndResumes()
    {
        // A pause outlives the jobs and servers it was about; resuming it must stay possible.
        await using var app = await TestApp.StartAsync();
        await app.Store.PauseQueueAsync("emails", CancellationToken.None);

        using var resume = await app.SendAsync(HttpMethod.Post, "/queues/emails/resume");

        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Empty(await ListAsync(app));
    }

    private static async Task HeartbeatAsync(TestApp app, string serverId, params string[] queues)
    {
        var now = DateTimeOffset.UtcNow;
        await app.Store.HeartbeatServerAsync(new ServerInfo
        {
            Id = serverId,
            Host = "worker-host",
            ProcessId = 4242,
            Queues = queues.ToDictionary(q => q, _ => 1),
            Concurrency = 4,
            ActiveJobs = 0,
            StartedAt = now,
            LastHeartbeatAt = now,
            ExpiresAt = now.AddMinutes(1),
        }, CancellationToken.None);
    }

    private static async Task<Dictionary<string, JsonElement>> ListAsync(TestApp app)
    {
        using var response = await app.SendAsync(HttpMethod.Get, "/queues");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await ProblemAssert.ReadJsonAsync(response)).GetProperty("queues").EnumerateArray().ToDictionary(q => q.GetProperty("name").GetString()!);
    }
}
