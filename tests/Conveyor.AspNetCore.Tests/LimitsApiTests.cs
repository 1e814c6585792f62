using System.Net;
using System.Text;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// GET /limits, GET, PUT and DELETE /limits/{kind}/{name} and the limits on GET /queues: what the store holds for
/// every server, changed only by admin keys, every bad input a 4xx naming the field.
/// </summary>
public sealed class LimitsApiTests
{
    private static async Task<HttpResponseMessage> PutAsync(TestApp app, string path, string json, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = TestApp.Json(json) };
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return await app.Client.SendAsync(request);
    }

    [Fact]
    public async Task List_ShowsTheStoreLimits_WithTheirSourceAndNumbers()
    {
        await using var app = await TestApp.StartAsync();
        await app.Store.PutLimitAsync(new LimitRecord { Kind = LimitKind.Concurrency, Name = "imports", Queue = "imports", PerTenant = true, Limit = 1 }, CancellationToken.None);
        await app.Store.PutLimitAsync(new LimitRecord { Kind = LimitKind.Rate, Name = "partner", Queue = "partner", JobType = "partner:call", Limit = 10, Period = TimeSpan.FromSeconds(2), Burst = 3, Source = LimitSource.Api }, CancellationToken.None);

        using var response = await app.SendAsync(HttpMethod.Get, "/limits");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ProblemAssert.ReadJsonAsync(response);
        Assert.Equal(5, body.GetProperty("refresh_interval_seconds").GetDouble());
        var limits = body.GetProperty("limits").EnumerateArray().ToArray();
        Assert.Equal(2, limits.Length);
        Assert.Equal("concurrency", limits[0].GetProperty("kind").GetString());
        Assert.Equal("tenant", limits[0].GetProperty("partition").GetString());
        Assert.Equal(1, limits[0].GetProperty("max").GetInt32());
        Assert.False(limits[0].TryGetProperty("limit", out _));
        Assert.Equal("configuration", limits[0].GetProperty("source").GetString());
        Assert.Equal("rate", limits[1].GetProperty("kind").GetString());
        Assert.Equal("partner:call", limits[1].GetProperty("job_type").GetString());
        Assert.Equal(10, limits[1].GetProperty("limit").GetInt32());
        Assert.Equal(2, limits[1].GetProperty("period_seconds").GetDouble());
        Assert.Equal(3, limits[1].GetProperty("burst").GetInt32());
        Assert.Equal("api", limits[1].GetProperty("source").GetString());
    }

    [Fact]
    public async Task Put_CreatesThenReplaces_AsAnApiLimit_AndGetReadsIt()
    {
        await using var app = await TestApp.StartAsync();

        using var created = await PutAsync(app, "/limits/rate/partner", """{"queue": "partner", "limit": 10, "period_seconds": 1}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/limits/rate/partner", created.Headers.Location?.OriginalString);
        var body = await ProblemAssert.ReadJsonAsync(created);
        Assert.Equal("api", body.GetProperty("source").GetString());
        Assert.Equal(1, body.GetProperty("burst").GetInt32());
        Assert.Equal("none", body.GetProperty("partition").GetString());

        using var replaced = await PutAsync(app, "/limits/rate/partner", """{"queue": "partner", "limit": 4, "period_seconds": 0.5, "burst": 2, "partition": "tenant", "job_type": "partner:call"}""");
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);

        using var read = await app.SendAsync(HttpMethod.Get, "/limits/rate/partner");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var limit = await ProblemAssert.ReadJsonAsync(read);
        Assert.Equal(4, limit.GetProperty("limit").GetInt32());
        Assert.Equal(0.5, limit.GetProperty("period_seconds").GetDouble());
        var stored = Assert.Single(await app.Store.ListLimitsAsync(CancellationToken.None));
        Assert.Equal(LimitSource.Api, stored.Source);
        Assert.True(stored.PerTenant);
        Assert.Equal(TimeSpan.FromMilliseconds(500), stored.Period);
    }

    // A rate limit whose record is written again starts from a fresh limiter: a PUT that changes nothing, as a tool
    // applying its desired state on a timer sends, would otherwise grant a new burst each time.
    [Fact]
    public async Task Put_TheSameLimitAgain_Is200_AndLeavesItsRecordAsItWas()
    {
        await using var app = await TestApp.StartAsync();
        const string json = """{"queue": "partner", "limit": 1, "period_seconds": 120, "partition": "tenant"}""";
        string? writtenAt;
        using (var created = await PutAsync(app, "/limits/rate/partner", json))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            writtenAt = (await ProblemAssert.ReadJsonAsync(created)).GetProperty("updated_at").GetString();
        }

        var written = Assert.Single(await app.Store.ListLimitsAsync(CancellationToken.None));

        using var again = await PutAsync(app, "/limits/rate/partner", json);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(written, Assert.Single(await app.Store.ListLimitsAsync(CancellationToken.None)));
        Assert.Equal(writtenAt, (await ProblemAssert.ReadJsonAsync(again)).GetProperty("updated_at").GetString());
    }

    [Fact]
    public async Task UpdatedAt_IsWrittenAsEveryOtherTime_InUtcWithAZAndSixFractionDigits()
    {
        await using var app = await TestApp.StartAsync();

        using var put = await PutAsync(app, "/limits/rate/partner", """{"queue": "partner", "limit": 10, "period_seconds": 1}""");
        using var list = await app.SendAsync(HttpMethod.Get, "/limits");

        var written = (await ProblemAssert.ReadJsonAsync(put)).GetProperty("updated_at").GetString();
        var listed = (await ProblemAssert.ReadJsonAsync(list)).GetProperty("limits")[0].GetProperty("updated_at").GetString();
        foreach (var time in new[] { written, listed })
        {
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$", time);
        }
    }

    [Fact]
    public async Task Put_OverAConfiguredLimit_OverridesIt()
    {
        await using var app = await TestApp.StartAsync();
        await app.Store.PutLimitAsync(new LimitRecord { Kind = LimitKind.Concurrency, Name = "imports", Queue = "imports", Limit = 1 }, CancellationToken.None);

        using var response = await PutAsync(app, "/limits/concurrency/imports", """{"queue": "imports", "max": 3}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = Assert.Single(await app.Store.ListLimitsAsync(CancellationToken.None));
        Assert.Equal((3, LimitSource.Api), (stored.Limit, stored.Source));
    }

    // The process that answered puts the change in force before it answers, rather than at its refresher's next read:
    // jobs enqueued right after the answer run under it there (an outside run saw three run at once under a new max 1).
    [Fact]
    public async Task PutAndDelete_AreInForceInTheAnsweringProcess_WhenAnswered()
    {
        await using var app = await TestApp.StartAsync();
        var inForce = app.Services.GetRequiredService<Conveyor.Limits.LimitsInForce>();

        using var put = await PutAsync(app, "/limits/concurrency/imports", """{"queue": "imports", "max": 1}""");
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(1, inForce.Current.Concurrency["imports"].Max);

        using var replaced = await PutAsync(app, "/limits/concurrency/imports", """{"queue": "imports", "max": 4}""");
        Assert.Equal(4, inForce.Current.Concurrency["imports"].Max);

        using var deleted = await app.SendAsync(HttpMethod.Delete, "/limits/concurrency/imports");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(inForce.Current.Concurrency.ContainsKey("imports"));
    }

    // An outside run: the jobs the answering server had snoozed to turns of the limit started 0.2-2.7 s after the answer,
    // at its refresher's next read; the refresh here is an hour away, so only the answer itself can have started them.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PutAndDelete_StartTheJobsTheAnsweringServerSnoozedToTheLimitsTurns_BeforeItAnswers(bool delete)
    {
        await using var app = await TestApp.StartAsync(withWorkers: true, services: s => s.Configure<ConveyorOptions>(o => o.Limits.RefreshInterval = TimeSpan.FromHours(1)));
        const string path = "/limits/rate/archive";
        using (var created = await PutAsync(app, path, """{"queue": "default", "job_type": "test:noop", "partition": "tenant", "limit": 1, "period_seconds": 3600}"""))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var first = await app.CreateAsync();
        await app.WaitForStatusAsync(first, null, "SUCCESS");
        var held = new[] { await app.CreateAsync(), await app.CreateAsync() };
        foreach (var id in held)
        {
            await app.WaitForStatusAsync(id, null, "SCHEDULED");
        }

        using var changed = delete
            ? await app.SendAsync(HttpMethod.Delete, path)
            : await PutAsync(app, path, """{"queue": "default", "job_type": "test:noop", "partition": "tenant", "limit": 50, "period_seconds": 1}""");
        Assert.True(changed.IsSuccessStatusCode, changed.StatusCode.ToString());

        foreach (var id in held)
        {
            Assert.NotEqual("SCHEDULED", (await app.GetJobAsync(id)).GetProperty("status").GetString());
        }

        foreach (var id in held)
        {
            await app.WaitForStatusAsync(id, null, "SUCCESS");
        }
    }

    [Fact]
    public async Task Delete_RemovesIt_ThenAnswers404()
    {
        await using var app = await TestApp.StartAsync();
        await app.Store.PutLimitAsync(new LimitRecord { Kind = LimitKind.Concurrency, Name = "imports", Queue = "imports", Limit = 1 }, CancellationToken.None);

        using var deleted = await app.SendAsync(HttpMethod.Delete, "/limits/concurrency/imports");
        using var again = await app.SendAsync(HttpMethod.Delete, "/limits/concurrency/imports");
        using var read = await app.SendAsync(HttpMethod.Get, "/limits/concurrency/imports");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await ProblemAssert.IsProblemAsync(again, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(read, HttpStatusCode.NotFound);
        Assert.Empty(await app.Store.ListLimitsAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("/limits/bogus/x", "{}", "kind")]
    [InlineData("/limits/rate/bad%20name", "{}", "name")]
    [InlineData("/limits/rate/x", "[]", "body")]
    [InlineData("/limits/rate/x", "{", "body")]
    [InlineData("/limits/rate/x", """{"limit": 1, "period_seconds": 1}""", "queue")]
    [InlineData("/limits/rate/x", """{"queue": "bad queue", "limit": 1, "period_seconds": 1}""", "queue")]
    [InlineData("/limits/rate/x", """{"queue": "q", "period_seconds": 1}""", "limit")]
    [InlineData("/limits/rate/x", """{"queue": "q", "limit": 0, "period_seconds": 1}""", "limit")]
    [InlineData("/limits/rate/x", """{"queue": "q", "limit": 1.5, "period_seconds": 1}""", "limit")]
    [InlineData("/limits/rate/x", """{"queue": "q", "limit": 99999999999, "period_seconds": 1}""", "limit")]
    [InlineData("/limits/rate/x", """{"queue": "q", "limit": 1}""", "period_seconds")]
    [InlineData("/limits/rate/x", """{"queue": "q", "limit": 1, "period_seconds": 0}""", "period_seconds")]
    [InlineData("/limits/rate/x", """{"queue": "q", "limit": 1, "period_seconds": 1e300}""", "period_seconds")]
    [InlineData("/limits/rate/x", """{"queue": "q", "limit": 2, "period_seconds": 1, "burst": 3}""", "burst")]
    [InlineData("/limits/rate/x", """{"queue": "q", "limit": 2, "period_seconds": 1, "max": 3}""", "max")]
    [InlineData("/limits/rate/x", """{"queue": "q", "limit": 2, "period_seconds": 1, "partition": "user"}""", "partition")]
    [InlineData("/limits/rate/x", """{"queue": "q", "limit": 2, "period_seconds": 1, "job_type": "NotAType"}""", "job_type")]
    [InlineData("/limits/rate/x", """{"queue": "q", "queue": "r", "limit": 2, "period_seconds": 1}""", "queue")]
    [InlineData("/limits/concurrency/x", """{"queue": "q"}""", "max")]
    [InlineData("/limits/concurrency/x", """{"queue": "q", "max": 100001}""", "max")]
    [InlineData("/limits/concurrency/x", """{"queue": "q", "max": 0.99999999999999999999999999999}""", "max")]
    [InlineData("/limits/concurrency/x", """{"queue": "q", "max": 1, "limit": 1}""", "limit")]
    [InlineData("/limits/concurrency/x", """{"queue": "\ud800", "max": 1}""", "queue")]
    public async Task Put_BadInput_Is400NamingTheField_AndWritesNothing(string path, string json, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await PutAsync(app, path, json);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty(await app.Store.ListLimitsAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(3)]
    public async Task Put_ABurstOutsideOneToTheLimit_SaysItsRangeIsOneToTheLimit(int burst)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await PutAsync(app, "/limits/rate/x", $$"""{"burst": {{burst}}, "queue": "q", "limit": 2, "period_seconds": 1}""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "burst");
        Assert.Contains($"from 1 to limit (2); got {burst}.", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await app.Store.ListLimitsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Put_NotJson_Is415()
    {
        await using var app = await TestApp.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Put, "/limits/concurrency/x") { Content = new StringContent("max=1", Encoding.UTF8, "text/plain") };

        using var response = await app.Client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Put_OverTheMostLimits_Is409()
    {
        await using var app = await TestApp.StartAsync();
        for (var i = 0; i < ConveyorLimitsOptions.MaxCount; i++)
        {
            await app.Store.PutLimitAsync(new LimitRecord { Kind = LimitKind.Concurrency, Name = $"l{i}", Queue = "q", Limit = 1 }, CancellationToken.None);
        }

        using var refused = await PutAsync(app, "/limits/concurrency/one-more", """{"queue": "q", "max": 1}""");
        using var replaced = await PutAsync(app, "/limits/concurrency/l0", """{"queue": "q", "max": 2}""");

        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
    }

    [Fact]
    public async Task TenantKey_ReadsTheLimits_ButCannotChangeThem()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        await app.Store.PutLimitAsync(new LimitRecord { Kind = LimitKind.Concurrency, Name = "imports", Queue = "imports", PerTenant = true, Limit = 1 }, CancellationToken.None);

        using var list = await app.SendAsync(HttpMethod.Get, "/limits", TestApp.KeyA);
        using var put = await PutAsync(app, "/limits/concurrency/imports", """{"queue": "imports", "max": 50}""", TestApp.KeyA);
        using var delete = await app.SendAsync(HttpMethod.Delete, "/limits/concurrency/imports", TestApp.KeyB);
        using var anonymous = await app.SendAsync(HttpMethod.Get, "/limits");
        using var admin = await PutAsync(app, "/limits/concurrency/imports", """{"queue": "imports", "max": 2}""", TestApp.AdminKey);

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Single((await ProblemAssert.ReadJsonAsync(list)).GetProperty("limits").EnumerateArray());
        await ProblemAssert.IsProblemAsync(put, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(delete, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(anonymous, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal(2, Assert.Single(await app.Store.ListLimitsAsync(CancellationToken.None)).Limit);
    }

    [Fact]
    public async Task Queues_ShowTheLimitsInForceOnEachQueue()
    {
        await using var app = await TestApp.StartAsync();
        await app.CreateAsync();
        await app.CreateAsync(extra: """, "queue": "low" """);
        await app.Store.PutLimitAsync(new LimitRecord { Kind = LimitKind.Concurrency, Name = "low-one", Queue = "low", Limit = 1 }, CancellationToken.None);

        using var response = await app.SendAsync(HttpMethod.Get, "/queues");

        var queues = (await ProblemAssert.ReadJsonAsync(response)).GetProperty("queues").EnumerateArray().ToDictionary(q => q.GetProperty("name").GetString()!);
        Assert.Empty(queues["default"].GetProperty("limits").EnumerateArray());
        var limit = Assert.Single(queues["low"].GetProperty("limits").EnumerateArray());
        Assert.Equal("low-one", limit.GetProperty("name").GetString());
        Assert.Equal(1, limit.GetProperty("max").GetInt32());
    }

    [Fact]
    public async Task ConfiguredLimits_AreSeededByTheServer_AndShownHere()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true, services: s => s.Configure<ConveyorOptions>(o =>
            o.Limits.Concurrency["imports"] = new() { Queue = QueueName.Default, Max = 2 }));

        using var response = await app.SendAsync(HttpMethod.Get, "/limits");

        var limit = Assert.Single((await ProblemAssert.ReadJsonAsync(response)).GetProperty("limits").EnumerateArray());
        Assert.Equal("imports", limit.GetProperty("name").GetString());
        Assert.Equal("configuration", limit.GetProperty("source").GetString());
    }
}
