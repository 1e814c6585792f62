using System.Net;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// JSON nested deeper than the API reads is valid JSON, so its 400 says how deep the API reads and names the field, in
/// the same words on every endpoint that reads a JSON body, and none of the JSON reader's own text.
/// </summary>
public sealed class JsonDepthTests
{
    private static string Nested(int levels) => new string('[', levels) + new string(']', levels);

    [Theory]
    [InlineData("POST", "/jobs", """{"type": "test:noop", "payload": #}""", "payload", 63)]
    [InlineData("POST", "/batches", """{"jobs": [{"type": "test:noop", "payload": #}]}""", "jobs[0].payload", 63)]
    [InlineData("POST", "/workflows", """{"steps": [{"name": "a", "job": {"type": "test:noop", "payload": #}}]}""", "steps[0].job.payload", 63)]
    [InlineData("POST", "/schedules", """{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "payload": #}""", "payload", 63)]
    [InlineData("PUT", "/schedules/s", """{"cron": "0 3 * * *", "job_type": "test:noop", "payload": #}""", "payload", 63)]
    [InlineData("POST", "/jobs/bulk", """{"action": "retry", "filter": #}""", "filter", 15)]
    [InlineData("PUT", "/limits/concurrency/imports", """{"queue": #, "max": 1}""", "queue", 15)]
    public async Task JsonNestedDeeperThanTheApiReads_Is400SayingSo_NamingTheField(string method, string path, string template, string field, int levels)
    {
        await using var app = await TestApp.StartAsync();

        using var deep = await app.CallAsync(new HttpMethod(method), path, template.Replace("#", Nested(levels + 1), StringComparison.Ordinal));

        var problem = await ProblemAssert.IsProblemAsync(deep, HttpStatusCode.BadRequest, field);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Equal($"{field}: is JSON nested deeper than the {levels} levels of arrays and objects the API reads there.", detail);

        using var deepest = await app.CallAsync(new HttpMethod(method), path, template.Replace("#", Nested(levels), StringComparison.Ordinal));
        Assert.DoesNotContain("nested", await deepest.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASignalPayloadNestedDeeperThanTheApiReads_Is400SayingSo()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync();

        using var deep = await app.PostAsync($"/jobs/{jobId}/signals/approved", Nested(65));

        var problem = await ProblemAssert.IsProblemAsync(deep, HttpStatusCode.BadRequest, "payload");
        Assert.Equal("payload: is JSON nested deeper than the 64 levels of arrays and objects the API reads there.", problem.GetProperty("detail").GetString());
        using var deepest = await app.PostAsync($"/jobs/{jobId}/signals/approved", Nested(64));
        Assert.DoesNotContain("nested", await deepest.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
