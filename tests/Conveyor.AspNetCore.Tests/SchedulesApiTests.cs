using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.Tests;

/// <summary>The schedules endpoints: what each answers, and what it writes to the store.</summary>
public sealed class SchedulesApiTests
{
    [Fact]
    public async Task Create_AnswersCreatedWithTheSchedule_AndGetShowsItsDefinitionTicksAndSource()
    {
        await using var app = await TestApp.StartAsync();

        using var created = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.FullBody("report:nightly"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/schedules/report:nightly", created.Headers.Location!.OriginalString);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var got = await app.CallAsync(HttpMethod.Get, "/schedules/report:nightly", null);
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
        var schedule = await got.Content.ReadFromJsonAsync<JsonElement>();
        foreach (var s in new[] { body, schedule })
        {
            Assert.Equal("report:nightly", s.GetProperty("name").GetString());
            Assert.Equal("30 2 * * *", s.GetProperty("cron").GetString());
            Assert.Equal("Europe/Berlin", s.GetProperty("time_zone").GetString());
            Assert.Equal("test:noop", s.GetProperty("job_type").GetString());
            Assert.Equal(1, s.GetProperty("payload").GetProperty("n").GetInt32());
            Assert.Equal("low", s.GetProperty("queue").GetString());
            Assert.Equal(2, s.GetProperty("max_retry").GetInt32());
            Assert.Equal(30, s.GetProperty("timeout_seconds").GetDouble());
            Assert.Equal("skip", s.GetProperty("misfire").GetString());
            Assert.Equal("skip_while_unfinished", s.GetProperty("overlap").GetString());
            Assert.False(s.GetProperty("paused").GetBoolean());
            Assert.Equal("runtime", s.GetProperty("source").GetString());
            Assert.Equal(JsonValueKind.Null, s.GetProperty("last_fire_at").ValueKind);
            Assert.Equal(JsonValueKind.Null, s.GetProperty("last_job_id").ValueKind);
            Assert.Equal(JsonValueKind.Null, s.GetProperty("last_job_status").ValueKind);
        }

        // Five ticks, a day apart in Berlin's local time, each at 02:30 there (03:00 on a spring-forward day).
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var ticks = schedule.GetProperty("next_fire_times").EnumerateArray().Select(t => DateTimeOffset.Parse(t.GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(5, ticks.Count);
        Assert.All(schedule.GetProperty("next_fire_times").EnumerateArray(), t => Assert.EndsWith("Z", t.GetString(), StringComparison.Ordinal));
        Assert.All(ticks.Zip(ticks.Skip(1)), p => Assert.True(p.First < p.Second));
        Assert.All(ticks, t => Assert.Contains(TimeZoneInfo.ConvertTime(t, berlin).TimeOfDay, new[] { new TimeSpan(2, 30, 0), new TimeSpan(3, 0, 0) }));
        Assert.True(ticks[0] > DateTimeOffset.UtcNow);

        var stored = Assert.Single(await app.Store.ListSchedulesAsync(null, CancellationToken.None));
        Assert.Equal(TenantId.Default, stored.Tenant);
        Assert.Equal(ScheduleOrigin.Runtime, stored.Origin);
    }

    [Fact]
    public async Task Resume_AStoredScheduleThatCannotTick_Is409_AndItStaysReadable()
    {
        await using var app = await TestApp.StartAsync();
        // Written to the store by hand: a cron that is not one, paused.
        Assert.True(await app.Store.TryCreateScheduleAsync(new ScheduleRecord
        {
            Tenant = TenantId.Default,
            Name = "by-hand",
            Cron = "61 * * * *",
            TimeZone = "UTC",
            JobType = "test:noop",
            Payload = "{}"u8.ToArray(),
            Queue = "default",
            MaxRetry = 0,
            Misfire = MisfirePolicy.Skip,
            Overlap = OverlapPolicy.Allow,
            Paused = true,
            Origin = ScheduleOrigin.Runtime,
            NextFireAt = null,
        }, CancellationToken.None));

        var problem = await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Post, "/schedules/by-hand/resume"), HttpStatusCode.Conflict);
        using var read = await app.SendAsync(HttpMethod.Get, "/schedules/by-hand");

        Assert.Contains("is not a valid cron expression", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.True((await app.Store.GetScheduleAsync(TenantId.Default, "by-hand", CancellationToken.None))!.Paused);
    }

    [Fact]
    public async Task Create_WithACronThatNeverTicks_IsAScheduleOnlyATriggerRuns()
    {
        await using var app = await TestApp.StartAsync();

        using var created = await app.PostAsync("/schedules", """{"name": "by-hand", "cron": "0 0 31 2 *", "job_type": "test:noop"}""");
        var schedule = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var triggered = await app.SendAsync(HttpMethod.Post, "/schedules/by-hand/trigger");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Empty(schedule.GetProperty("next_fire_times").EnumerateArray());
        Assert.Equal(HttpStatusCode.Accepted, triggered.StatusCode);
    }

    [Fact]
    public async Task Create_MinimalBody_TakesTheDefaults()
    {
        await using var app = await TestApp.StartAsync();

        using var created = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody("cleanup"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var s = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("UTC", s.GetProperty("time_zone").GetString());
        Assert.Equal("default", s.GetProperty("queue").GetString());
        Assert.Equal(JsonValueKind.Object, s.GetProperty("payload").ValueKind);
        Assert.Equal(JsonValueKind.Null, s.GetProperty("max_retry").ValueKind);
        Assert.Equal(JsonValueKind.Null, s.GetProperty("timeout_seconds").ValueKind);
        Assert.Equal("once", s.GetProperty("misfire").GetString());
        Assert.Equal("allow", s.GetProperty("overlap").GetString());
        Assert.All(s.GetProperty("next_fire_times").EnumerateArray(), t => Assert.Contains("T03:00:00.000000Z", t.GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_DuplicateName_Is409_AndTheFirstStaysAsItWas()
    {
        await using var app = await TestApp.StartAsync();
        using var first = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody("cleanup", "0 3 * * *"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        using var second = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody("cleanup", "0 4 * * *"));

        var problem = await ProblemAssert.IsProblemAsync(second, HttpStatusCode.Conflict);
        Assert.Contains("cleanup", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("0 3 * * *", Assert.Single(await app.Store.ListSchedulesAsync(null, CancellationToken.None)).Cron);
    }

    [Fact]
    public async Task List_IsByName_APageAtATime()
    {
        await using var app = await TestApp.StartAsync();
        foreach (var name in new[] { "c:three", "a:one", "b:two" })
        {
            using var created = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody(name));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var all = await app.CallAsync(HttpMethod.Get, "/schedules", null);
        using var first = await app.CallAsync(HttpMethod.Get, "/schedules?limit=2", null);
        var firstPage = await first.Content.ReadFromJsonAsync<JsonElement>();
        var cursor = firstPage.GetProperty("next_cursor").GetString();
        using var second = await app.CallAsync(HttpMethod.Get, $"/schedules?limit=2&cursor={cursor}", null);
        var secondPage = await second.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(["a:one", "b:two", "c:three"], Names(await all.Content.ReadFromJsonAsync<JsonElement>()));
        Assert.Equal(["a:one", "b:two"], Names(firstPage));
        Assert.Equal(["c:three"], Names(secondPage));
        Assert.Equal(JsonValueKind.Null, secondPage.GetProperty("next_cursor").ValueKind);
    }

    [Fact]
    public async Task Put_CreatesANewSchedule_ThenReplacesItsDefinition_KeepingPauseAndHistory()
    {
        await using var app = await TestApp.StartAsync();

        using var created = await app.CallAsync(HttpMethod.Put, "/schedules/sync", """{"cron": "0 * * * *", "job_type": "test:noop", "paused": true}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/schedules/sync", created.Headers.Location!.OriginalString);
        Assert.True((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paused").GetBoolean());
        using var triggered = await app.CallAsync(HttpMethod.Post, "/schedules/sync/trigger", null);
        var jobId = (await triggered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString();

        using var replaced = await app.CallAsync(HttpMethod.Put, "/schedules/sync", """{"name": "sync", "cron": "*/5 * * * *", "job_type": "test:noop", "payload": {"n": 2}, "paused": false}""");

        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var s = await replaced.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("*/5 * * * *", s.GetProperty("cron").GetString());
        Assert.Equal(2, s.GetProperty("payload").GetProperty("n").GetInt32());
        Assert.True(s.GetProperty("paused").GetBoolean());
        Assert.Equal(jobId, s.GetProperty("last_job_id").GetString());
        Assert.Single(await app.Store.ListSchedulesAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task PauseAndResume_StopAndRestartTheTicks()
    {
        await using var app = await TestApp.StartAsync();
        using var created = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody("cleanup"));

        using var paused = await app.CallAsync(HttpMethod.Post, "/schedules/cleanup/pause", null);
        var p = await paused.Content.ReadFromJsonAsync<JsonElement>();
        var storedWhilePaused = await app.Store.GetScheduleAsync(TenantId.Default, "cleanup", CancellationToken.None);
        using var resumed = await app.CallAsync(HttpMethod.Post, "/schedules/cleanup/resume", null);
        var r = await resumed.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.True(p.GetProperty("paused").GetBoolean());
        Assert.Equal(0, p.GetProperty("next_fire_times").GetArrayLength());
        Assert.True(storedWhilePaused!.Paused);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.False(r.GetProperty("paused").GetBoolean());
        Assert.Equal(5, r.GetProperty("next_fire_times").GetArrayLength());
    }

    [Fact]
    public async Task Trigger_EnqueuesTheJobNow_LocationIsTheJob_AndTheScheduleShowsItAsItsLastJob()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        using var created = await app.CallAsync(HttpMethod.Post, "/schedules", """{"name": "cleanup", "cron": "0 3 * * *", "job_type": "test:noop", "payload": {"n": 7}, "queue": "default", "paused": true}""");

        using var triggered = await app.CallAsync(HttpMethod.Post, "/schedules/cleanup/trigger", null);

        Assert.Equal(HttpStatusCode.Accepted, triggered.StatusCode);
        var body = await triggered.Content.ReadFromJsonAsync<JsonElement>();
        var jobId = body.GetProperty("job_id").GetString()!;
        Assert.Equal($"/jobs/{jobId}", triggered.Headers.Location!.OriginalString);
        var job = await app.WaitForStatusAsync(jobId, null, "SUCCESS");
        Assert.Equal("test:noop", job.GetProperty("type").GetString());
        Assert.Equal(7, job.GetProperty("payload").GetProperty("n").GetInt32());
        using var got = await app.CallAsync(HttpMethod.Get, "/schedules/cleanup", null);
        var schedule = await got.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(jobId, schedule.GetProperty("last_job_id").GetString());
        Assert.Equal("SUCCESS", schedule.GetProperty("last_job_status").GetString());
        Assert.NotEqual(JsonValueKind.Null, schedule.GetProperty("last_fire_at").ValueKind);
        Assert.True(schedule.GetProperty("paused").GetBoolean());
    }

    [Fact]
    public async Task Delete_RemovesTheSchedule_ThenIs404()
    {
        await using var app = await TestApp.StartAsync();
        using var created = await app.CallAsync(HttpMethod.Post, "/schedules", ScheduleApiClient.MinimalBody("cleanup"));

        using var deleted = await app.CallAsync(HttpMethod.Delete, "/schedules/cleanup", null);
        using var again = await app.CallAsync(HttpMethod.Delete, "/schedules/cleanup", null);
        using var got = await app.CallAsync(HttpMethod.Get, "/schedules/cleanup", null);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await ProblemAssert.IsProblemAsync(again, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(got, HttpStatusCode.NotFound);
        Assert.Empty(await app.Store.ListSchedulesAsync(null, CancellationToken.None));
    }

    [Theory]
    [InlineData("GET", "/schedules/nothing")]
    [InlineData("PUT_NONE", "/schedules/nothing")]
    [InlineData("DELETE", "/schedules/nothing")]
    [InlineData("POST", "/schedules/nothing/pause")]
    [InlineData("POST", "/schedules/nothing/resume")]
    [InlineData("POST", "/schedules/nothing/trigger")]
    public async Task UnknownSchedule_Is404(string method, string path)
    {
        await using var app = await TestApp.StartAsync();
        if (method == "PUT_NONE")
        {
            // PUT creates: an unknown name is not an error for it.
            using var put = await app.CallAsync(HttpMethod.Put, path, """{"cron": "@daily", "job_type": "test:noop"}""");
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            return;
        }

        using var response = await app.CallAsync(new HttpMethod(method), path, null);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Contains("nothing", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScheduleFromCode_CannotBeReplacedOrDeleted_ButPausesResumesAndTriggers()
    {
        await using var app = await TestApp.StartAsync();
        await app.Store.TryCreateScheduleAsync(new ScheduleRecord
        {
            Tenant = TenantId.Default,
            Name = "note:cleanup-old",
            Cron = "0 3 * * *",
            TimeZone = "UTC",
            JobType = "test:noop",
            Payload = Encoding.UTF8.GetBytes("{}"),
            Origin = ScheduleOrigin.Code,
            NextFireAt = DateTimeOffset.UtcNow.AddHours(1),
        }, CancellationToken.None);

        using var got = await app.CallAsync(HttpMethod.Get, "/schedules/note:cleanup-old", null);
        using var put = await app.CallAsync(HttpMethod.Put, "/schedules/note:cleanup-old", """{"cron": "0 4 * * *", "job_type": "test:noop"}""");
        using var delete = await app.CallAsync(HttpMethod.Delete, "/schedules/note:cleanup-old", null);
        using var pause = await app.CallAsync(HttpMethod.Post, "/schedules/note:cleanup-old/pause", null);
        using var resume = await app.CallAsync(HttpMethod.Post, "/schedules/note:cleanup-old/resume", null);
        using var trigger = await app.CallAsync(HttpMethod.Post, "/schedules/note:cleanup-old/trigger", null);

        Assert.Equal("code", (await got.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("source").GetString());
        Assert.Contains("Conveyor:Schedules", (await ProblemAssert.IsProblemAsync(put, HttpStatusCode.Conflict)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        await ProblemAssert.IsProblemAsync(delete, HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, trigger.StatusCode);
        var stored = await app.Store.GetScheduleAsync(TenantId.Default, "note:cleanup-old", CancellationToken.None);
        Assert.Equal("0 3 * * *", stored!.Cron);
    }

    private static string[] Names(JsonElement page) =>
        page.GetProperty("schedules").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToArray();
}
