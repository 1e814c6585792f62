using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// The API refuses to create a queue, schedule or limit named '.' or '..' (no path could name it afterwards), and its
/// document's body patterns say so; names with dots among other characters stay valid.
/// </summary>
public sealed class DotNameTests
{
    public static TheoryData<string, string, string, string> Refused => new()
    {
        { "POST", "/jobs", """{"type": "test:noop", "queue": "."}""", "queue" },
        { "POST", "/jobs", """{"type": "test:noop", "queue": ".."}""", "queue" },
        { "POST", "/batches", """{"jobs": [{"type": "test:noop", "queue": "."}]}""", "jobs[0].queue" },
        { "POST", "/workflows", """{"steps": [{"name": "a", "job": {"type": "test:noop", "queue": ".."}}]}""", "steps[0].job.queue" },
        { "POST", "/schedules", """{"name": ".", "cron": "0 3 * * *", "job_type": "test:noop"}""", "name" },
        { "POST", "/schedules", """{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "queue": ".."}""", "queue" },
        { "PUT", "/limits/concurrency/x", """{"queue": ".", "max": 1}""", "queue" },
        { "PUT", "/limits/rate/x", """{"queue": "..", "limit": 1, "period_seconds": 1}""", "queue" },
    };

    private static async Task<HttpResponseMessage> SendAsync(TestApp app, string method, string path, string body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = TestApp.Json(body) };
        return await app.Client.SendAsync(request);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task DotName_Is400NamingTheField_AndStoresNothing(string method, string path, string body, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await SendAsync(app, method, path, body);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Contains("no path could name it", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await app.StoredJobsAsync());
        using var schedules = await app.Client.GetAsync("/schedules");
        Assert.Empty((await schedules.Content.ReadFromJsonAsync<JsonObject>())!["schedules"]!.AsArray());
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task DotName_DoesNotMatchTheDocumentsBody(string method, string path, string body, string field)
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var template = path.StartsWith("/limits/", StringComparison.Ordinal) ? "/limits/{kind}/{name}" : path;
        var schema = contract.Operation(method, template)["requestBody"]!["content"]!["application/json"]!["schema"]!;

        contract.AssertInvalid(schema, body, $"{method} {path} with '{field}' a dot segment");
        contract.AssertValid(schema, body.Replace("\"..\"", "\"...\"", StringComparison.Ordinal).Replace("\".\"", "\".x\"", StringComparison.Ordinal), $"{method} {path}");
    }

    [Fact]
    public async Task NamesWithDotsAmongOtherCharacters_AreAccepted()
    {
        await using var app = await TestApp.StartAsync();

        using var job = await app.PostJobAsync("""{"type": "test:noop", "queue": "..."}""");
        using var schedule = await SendAsync(app, "POST", "/schedules", """{"name": ".x", "cron": "0 3 * * *", "job_type": "test:noop", "queue": "a."}""");

        Assert.Equal(HttpStatusCode.Accepted, job.StatusCode);
        Assert.Equal(HttpStatusCode.Created, schedule.StatusCode);
    }
}
