using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore.Tests;

/// <summary>Bad input to the schedules endpoints: a problem naming the field, and nothing written.</summary>
public sealed class ScheduleValidationTests
{
    [Theory]
    [InlineData("europe/berlin", "Europe/Berlin")]
    [InlineData("EUROPE/BERLIN", "Europe/Berlin")]
    [InlineData("utc", "UTC")]
    [InlineData("US/Eastern", "US/Eastern")]
    public async Task TimeZone_OfTheHostsList_InAnyLetterCase_IsStoredAndShownAsTheDatabaseSpellsIt(string sent, string spelling)
    {
        await using var app = await TestApp.StartAsync();

        using var created = await app.CallAsync(HttpMethod.Post, "/schedules", $$"""{"name": "a", "cron": "0 3 * * *", "time_zone": "{{sent}}", "job_type": "test:noop"}""");
        using var put = await app.CallAsync(HttpMethod.Put, "/schedules/b", $$"""{"cron": "0 3 * * *", "time_zone": "{{sent}}", "job_type": "test:noop"}""");

        foreach (var response in new[] { created, put })
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal(spelling, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("time_zone").GetString());
        }

        Assert.All(await app.Services.GetRequiredService<IScheduleClient>().ListAsync(TenantId.Default), s => Assert.Equal(spelling, s.TimeZone));
    }

    [Theory]
    [InlineData("us/eastern", "US/Eastern")]
    [InlineData("Etc/Utc", "Etc/UTC")]
    public async Task TimeZone_OutsideTheHostsList_InAnotherLetterCase_Is400_EvenOnceTheZoneWasRead(string sent, string spelling)
    {
        await using var app = await TestApp.StartAsync();
        using var spelled = await app.CallAsync(HttpMethod.Post, "/schedules", $$"""{"name": "a", "cron": "0 3 * * *", "time_zone": "{{spelling}}", "job_type": "test:noop"}""");
        Assert.Equal(HttpStatusCode.Created, spelled.StatusCode);

        using var response = await app.CallAsync(HttpMethod.Post, "/schedules", $$"""{"name": "b", "cron": "0 3 * * *", "time_zone": "{{sent}}", "job_type": "test:noop"}""");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "time_zone");
    }

    [Theory]
    [InlineData("""{"name": "s", "cron": "61 * * * *", "job_type": "test:noop"}""", "cron")]
    [InlineData("""{"name": "s", "cron": "1 2 3 4 5 6 7", "job_type": "test:noop"}""", "cron")]
    [InlineData("""{"name": "s", "cron": "@sometimes", "job_type": "test:noop"}""", "cron")]
    [InlineData("""{"name": "s", "cron": "", "job_type": "test:noop"}""", "cron")]
    [InlineData("""{"name": "s", "job_type": "test:noop"}""", "cron")]
    [InlineData("""{"name": "s", "cron": 5, "job_type": "test:noop"}""", "cron")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *\u0000", "job_type": "test:noop"}""", "cron")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": "Mars/Olympus_Mons", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": "../../etc/passwd", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": "", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": "Europe", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": "posix/Europe", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": "localtime", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": "Europe//Berlin", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": "./UTC", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": "Europe/./Berlin", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": "/UTC", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": "UTC/", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "time_zone": " UTC", "job_type": "test:noop"}""", "time_zone")]
    [InlineData("""{"name": "s", "cron": "H * * * *", "job_type": "test:noop"}""", "cron")]
    [InlineData("""{"name": "s", "cron": "0 H(0-5) * * *", "job_type": "test:noop"}""", "cron")]
    [InlineData("""{"name": "s", "cron": "H/5 * * * * *", "job_type": "test:noop"}""", "cron")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:unknown"}""", "job_type")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "NoColon"}""", "job_type")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *"}""", "job_type")]
    [InlineData("""{"cron": "0 3 * * *", "job_type": "test:noop"}""", "name")]
    [InlineData("""{"name": "has space", "cron": "0 3 * * *", "job_type": "test:noop"}""", "name")]
    [InlineData("""{"name": "", "cron": "0 3 * * *", "job_type": "test:noop"}""", "name")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:note", "payload": {"note_id": "forty-two"}}""", "payload.note_id")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "queue": "no such"}""", "queue")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "max_retry": -1}""", "max_retry")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "max_retry": 1.5}""", "max_retry")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "timeout_seconds": 0}""", "timeout_seconds")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "timeout_seconds": 1e300}""", "timeout_seconds")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "misfire": "sometimes"}""", "misfire")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "overlap": "never"}""", "overlap")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "paused": "yes"}""", "paused")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "colour": "red"}""", "colour")]
    [InlineData("""{"name": "s", "name": "t", "cron": "0 3 * * *", "job_type": "test:noop"}""", "name")]
    [InlineData("""{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "payload": {"a": 1, "a": 2}}""", "payload.a")]
    [InlineData("""{"\ud800": "s", "cron": "0 3 * * *", "job_type": "test:noop"}""", "body")]
    [InlineData("""[1, 2]""", "body")]
    [InlineData("""{"name": "s", """, "body")]
    public async Task Create_BadBody_Is400NamingTheField_AndWritesNothing(string body, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.CallAsync(HttpMethod.Post, "/schedules", body);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty(await app.Store.ListSchedulesAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task Put_ANameInTheBodyThatDiffersFromTheUrl_Is400_AndChangesNothing()
    {
        await using var app = await TestApp.StartAsync();
        using var created = await app.CallAsync(HttpMethod.Put, "/schedules/a", """{"cron": "0 3 * * *", "job_type": "test:noop"}""");

        using var response = await app.CallAsync(HttpMethod.Put, "/schedules/a", """{"name": "b", "cron": "0 4 * * *", "job_type": "test:noop"}""");
        using var badCron = await app.CallAsync(HttpMethod.Put, "/schedules/a", """{"cron": "0 25 * * *", "job_type": "test:noop"}""");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "name");
        await ProblemAssert.IsProblemAsync(badCron, HttpStatusCode.BadRequest, "cron");
        Assert.Equal("0 3 * * *", Assert.Single(await app.Store.ListSchedulesAsync(null, CancellationToken.None)).Cron);
    }

    [Theory]
    [InlineData("GET", "/schedules/has%20space")]
    [InlineData("PUT", "/schedules/has%20space")]
    [InlineData("DELETE", "/schedules/has%20space")]
    [InlineData("POST", "/schedules/%C3%A9t%C3%A9/pause")]
    [InlineData("POST", "/schedules/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/trigger")]
    public async Task BadScheduleNameInTheUrl_Is400NamingIt(string method, string path)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.CallAsync(new HttpMethod(method), path, method == "PUT" ? """{"cron": "0 3 * * *", "job_type": "test:noop"}""" : null);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "name");
        Assert.Empty(await app.Store.ListSchedulesAsync(null, CancellationToken.None));
    }

    [Theory]
    [InlineData("colour=red", "colour")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=100000", "limit")]
    [InlineData("limit=2%00", "limit")]
    [InlineData("limit=1&limit=2", "limit")]
    [InlineData("cursor=not%20a%20name", "cursor")]
    public async Task List_BadQuery_Is400NamingTheParameter(string query, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.CallAsync(HttpMethod.Get, "/schedules?" + query, null);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Create_NotJson_Is415_TooLarge_Is413_AndWritesNothing()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxRequestBytes"] = "4096" });

        using var text = await app.CallAsync(HttpMethod.Post, "/schedules", "name=s", contentType: "text/plain");
        using var large = await app.CallAsync(HttpMethod.Post, "/schedules", $$"""{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "payload": "{{new string('x', 5000)}}"}""");

        await ProblemAssert.IsProblemAsync(text, HttpStatusCode.UnsupportedMediaType);
        var problem = await ProblemAssert.IsProblemAsync(large, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("body", problem.GetProperty("field").GetString());
        Assert.Empty(await app.Store.ListSchedulesAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task Create_UnknownJobType_NamesTheTypesThisServerRuns()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.CallAsync(HttpMethod.Post, "/schedules", """{"name": "s", "cron": "0 3 * * *", "job_type": "test:unknown"}""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "job_type");
        Assert.Contains("test:noop", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Object, problem.GetProperty("errors").ValueKind);

        // An api-role server in front of other processes' workers: the answer names the setting that accepts their types.
        Assert.Contains("Conveyor:Api:JobTypes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
