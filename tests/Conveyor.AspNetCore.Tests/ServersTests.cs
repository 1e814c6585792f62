using System.Net;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.Tests;

public sealed class ServersTests
{
    private static ServerInfo Server(string id, DateTimeOffset expiresAt) => new()
    {
        Id = id,
        Host = "worker-7",
        ProcessId = 4242,
        Queues = new Dictionary<string, int> { ["critical"] = 6, ["default"] = 3 },
        Concurrency = 20,
        ActiveJobs = 5,
        StartedAt = expiresAt.AddHours(-1),
        LastHeartbeatAt = expiresAt.AddSeconds(-30),
        ExpiresAt = expiresAt,
    };

    [Fact]
    public async Task List_ShowsTheServersWithACurrentHeartbeat_AndLeavesOutExpiredOnes()
    {
        await using var app = await TestApp.StartAsync();
        var now = DateTimeOffset.UtcNow;
        await app.Store.HeartbeatServerAsync(Server("live-1", now.AddMinutes(1)), CancellationToken.None);
        await app.Store.HeartbeatServerAsync(Server("gone-1", now.AddMinutes(-1)), CancellationToken.None);

        using var response = await app.SendAsync(HttpMethod.Get, "/servers");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var server = Assert.Single((await ProblemAssert.ReadJsonAsync(response)).GetProperty("servers").EnumerateArray());
        Assert.Equal(("live-1", "worker-7", 4242), (server.GetProperty("id").GetString(), server.GetProperty("host").GetString(), server.GetProperty("pid").GetInt32()));
        Assert.Equal((20, 5), (server.GetProperty("concurrency").GetInt32(), server.GetProperty("running").GetInt32()));
        Assert.Equal(6, server.GetProperty("queues").GetProperty("critical").GetInt32());
        Assert.EndsWith("Z", server.GetProperty("last_heartbeat_at").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_ARunningWorkerServer_ListsItself()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);

        // The first heartbeat is written as the server starts; wait for it with a deadline.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        System.Text.Json.JsonElement servers;
        while (true)
        {
            using var response = await app.SendAsync(HttpMethod.Get, "/servers");
            servers = (await ProblemAssert.ReadJsonAsync(response)).GetProperty("servers");
            if (servers.GetArrayLength() > 0)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the worker server never appeared in GET /servers");
            await Task.Delay(20);
        }

        var server = Assert.Single(servers.EnumerateArray());

        Assert.Equal(Environment.ProcessId, server.GetProperty("pid").GetInt32());
        Assert.Equal(4, server.GetProperty("concurrency").GetInt32());
    }

    [Fact]
    public async Task List_WithATenantKey_IsForbidden()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var response = await app.SendAsync(HttpMethod.Get, "/servers", TestApp.KeyA);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
