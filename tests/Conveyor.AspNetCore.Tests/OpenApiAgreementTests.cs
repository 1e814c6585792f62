using System.Net;
using System.Text.Json.Nodes;
using Conveyor.AspNetCore.JobsApi;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// Where the document and the server could disagree, each body is tried on both: what the document's schema accepts
/// the server accepts, and what the server refuses the schema refuses.
/// </summary>
public sealed class OpenApiAgreementTests
{
    private static JsonNode Body(OpenApiContract contract, string method, string path) =>
        contract.Operation(method, path)["requestBody"]!["content"]!["application/json"]!["schema"]!;

    private static async Task<HttpResponseMessage> SendAsync(TestApp app, string method, string path, string body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = TestApp.Json(body) };
        return await app.Client.SendAsync(request);
    }

    /// <summary>The server accepts <paramref name="body"/> and the document's schema does too.</summary>
    private static async Task AcceptedByBothAsync(TestApp app, OpenApiContract contract, string method, string path, string template, string body)
    {
        using var response = await SendAsync(app, method, path, body);
        Assert.True((int)response.StatusCode is >= 200 and < 300, $"{method} {path} {body}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        contract.AssertValid(Body(contract, method, template), body, $"{method} {template}");
    }

    /// <summary>The server refuses <paramref name="body"/> with a 400 naming <paramref name="field"/>, and the schema refuses it.</summary>
    private static async Task RefusedByBothAsync(TestApp app, OpenApiContract contract, string method, string path, string template, string body, string field)
    {
        using var response = await SendAsync(app, method, path, body);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        contract.AssertInvalid(Body(contract, method, template), body, $"{method} {template}");
    }

    [Fact]
    public async Task JobType_IsAnEnumOfTheTypesTheServerRuns()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var types = app.Services.GetRequiredService<JobTypeCatalog>().Types.Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(types, Body(contract, "POST", "/jobs")["properties"]!["type"]!["enum"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(types, Body(contract, "POST", "/schedules")["properties"]!["job_type"]!["enum"]!.AsArray().Select(t => t!.GetValue<string>()));
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "a:b"}""", "type");
        await RefusedByBothAsync(app, contract, "POST", "/batches", "/batches", """{"jobs": [{"type": "a:b"}]}""", "jobs[0].type");
        await RefusedByBothAsync(app, contract, "POST", "/batches", "/batches", """{"jobs": [{"type": "test:noop"}], "on_success": {"type": "a:b"}}""", "on_success.type");
        await RefusedByBothAsync(app, contract, "POST", "/workflows", "/workflows", """{"steps": [{"name": "s", "job": {"type": "a:b"}}]}""", "steps[0].job.type");
        await RefusedByBothAsync(app, contract, "POST", "/schedules", "/schedules", """{"name": "s", "cron": "0 3 * * *", "job_type": "a:b"}""", "job_type");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop"}""");
    }

    [Fact]
    public async Task WholeNumbers_WrittenWithAFractionOrAnExponent_AreAccepted_ButNotFractions()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);

        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "max_retry": 3.0}""");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "max_retry": 1e1}""");
        await AcceptedByBothAsync(app, contract, "POST", "/batches", "/batches", """{"jobs": [{"type": "test:noop", "max_retry": 2.00}]}""");
        await AcceptedByBothAsync(app, contract, "POST", "/schedules", "/schedules", """{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "max_retry": 5E0}""");
        await AcceptedByBothAsync(app, contract, "PUT", "/limits/concurrency/c", "/limits/{kind}/{name}", """{"queue": "q", "max": 2.0}""");
        await AcceptedByBothAsync(app, contract, "PUT", "/limits/rate/r", "/limits/{kind}/{name}", """{"queue": "q", "limit": 1e1, "period_seconds": 1, "burst": 2.0}""");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs/bulk", "/jobs/bulk", """{"action": "retry", "filter": {}, "limit": 1e2}""");
        Assert.Contains((await app.StoredJobsAsync()).Select(j => j.MaxRetry), r => r == 10);

        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "max_retry": 3.5}""", "max_retry");
        await RefusedByBothAsync(app, contract, "POST", "/schedules", "/schedules", """{"name": "t", "cron": "0 3 * * *", "job_type": "test:noop", "max_retry": 2.5}""", "max_retry");
        await RefusedByBothAsync(app, contract, "PUT", "/limits/concurrency/c", "/limits/{kind}/{name}", """{"queue": "q", "max": 1.5}""", "max");
        await RefusedByBothAsync(app, contract, "POST", "/jobs/bulk", "/jobs/bulk", """{"action": "retry", "filter": {}, "limit": 2.5}""", "limit");
    }

    [Fact]
    public async Task LimitBody_RequiresTheFieldsOfItsKind_AndNoneOfTheOther_InBoth()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);
        const string Template = "/limits/{kind}/{name}";

        await AcceptedByBothAsync(app, contract, "PUT", "/limits/concurrency/c", Template, """{"queue": "q", "max": 2}""");
        await AcceptedByBothAsync(app, contract, "PUT", "/limits/rate/r", Template, """{"queue": "q", "limit": 5, "period_seconds": 1}""");
        await RefusedByBothAsync(app, contract, "PUT", "/limits/concurrency/c", Template, """{"queue": "q"}""", "max");
        await RefusedByBothAsync(app, contract, "PUT", "/limits/rate/r", Template, """{"queue": "q", "limit": 5}""", "period_seconds");
        await RefusedByBothAsync(app, contract, "PUT", "/limits/rate/r", Template, """{"queue": "q", "period_seconds": 1}""", "limit");
        await RefusedByBothAsync(app, contract, "PUT", "/limits/concurrency/c", Template, """{"queue": "q", "max": 1, "limit": 1}""", "limit");
        await RefusedByBothAsync(app, contract, "PUT", "/limits/rate/r", Template, """{"queue": "q", "limit": 2, "period_seconds": 1, "max": 3}""", "max");
    }

    [Fact]
    public async Task ProcessAt_WithProcessInSeconds_IsRefusedByBoth()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);

        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "process_at": "2030-01-01T00:00:00Z", "process_in_seconds": 5}""", "process_in_seconds");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "process_at": "2030-01-01T00:00:00Z"}""");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "process_in_seconds": 5}""");
    }

    [Fact]
    public async Task After_AndOnDependencyFailure_FollowTheServersRules()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var parent = await app.CreateAsync();
        var tooMany = string.Join(", ", Enumerable.Range(0, JobDependenciesParser.MaxAfter + 1).Select(i => $"\"job_{i}\""));

        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", $$"""{"type": "test:noop", "after": ["{{parent}}"]}""");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", $$"""{"type": "test:noop", "after": ["{{parent}}"], "on_dependency_failure": "run"}""");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "after": []}""");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "after": [], "on_dependency_failure": "run"}""", "on_dependency_failure");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "after": null}""");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", $$"""{"type": "test:noop", "after": ["{{parent}}"], "on_dependency_failure": null}""");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "after": null, "on_dependency_failure": null}""");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "after": null, "on_dependency_failure": "run"}""", "on_dependency_failure");
        await RefusedByBothAsync(app, contract, "POST", "/workflows", "/workflows", """{"steps": [{"name": "a", "job": {"type": "test:noop"}, "after": [], "on_dependency_failure": "run"}]}""", "steps[0].on_dependency_failure");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "unique_key": "k", "unique_for_seconds": null}""", "unique_for_seconds");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "unique_key": null, "unique_for_seconds": 5}""", "unique_key");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "process_at": null, "process_in_seconds": 5}""");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "after": "job_1"}""", "after");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", $$"""{"type": "test:noop", "after": [{{tooMany}}]}""", "after");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "after": ["job_1", "job_1"]}""", "after[1]");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "after": [1]}""", "after[0]");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "after": ["job/1"]}""", "after[0]");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", $$"""{"type": "test:noop", "after": ["{{new string('a', JobId.MaxLength + 1)}}"]}""", "after[0]");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "after": ["job_1"], "on_dependency_failure": "skip"}""", "on_dependency_failure");
        await RefusedByBothAsync(app, contract, "POST", "/jobs", "/jobs", """{"type": "test:noop", "on_dependency_failure": "fail"}""", "on_dependency_failure");
        await RefusedByBothAsync(app, contract, "POST", "/batches", "/batches", """{"jobs": [{"type": "test:noop", "after": ["job_1"]}]}""", "jobs[0].after");
    }

    [Fact]
    public async Task BulkJobs_IdsAndFilterTakeOnlyTheirOwnFields()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);
        const string Id = "job_31c8927959d5442e90e3a6bc5a9188ec";

        await RefusedByBothAsync(app, contract, "POST", "/jobs/bulk", "/jobs/bulk", $$"""{"action": "retry", "ids": ["{{Id}}"], "cursor": null}""", "cursor");
        await RefusedByBothAsync(app, contract, "POST", "/jobs/bulk", "/jobs/bulk", $$"""{"action": "retry", "ids": ["{{Id}}"], "limit": 5}""", "limit");
        await RefusedByBothAsync(app, contract, "POST", "/jobs/bulk", "/jobs/bulk", """{"action": "retry", "filter": {}, "tenant": "default"}""", "tenant");
        await RefusedByBothAsync(app, contract, "POST", "/jobs/bulk", "/jobs/bulk", $$$"""{"action": "retry", "ids": ["{{{Id}}}"], "filter": {}}""", "filter");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs/bulk", "/jobs/bulk", $$"""{"action": "retry", "ids": ["{{Id}}"], "tenant": "default"}""");
        await AcceptedByBothAsync(app, contract, "POST", "/jobs/bulk", "/jobs/bulk", """{"action": "retry", "filter": {"tenant": "default"}, "cursor": null, "limit": 5}""");
    }

    [Fact]
    public async Task Schedules_TimeZoneAndCron_FollowTheServersRules()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);

        await RefusedByBothAsync(app, contract, "POST", "/schedules", "/schedules", """{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "time_zone": " "}""", "time_zone");
        await RefusedByBothAsync(app, contract, "POST", "/schedules", "/schedules", """{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "time_zone": "UTC "}""", "time_zone");
        await RefusedByBothAsync(app, contract, "POST", "/schedules", "/schedules", """{"name": "s", "cron": "0 3 *\t* *", "job_type": "test:noop"}""", "cron");
        await RefusedByBothAsync(app, contract, "POST", "/schedules", "/schedules", """{"name": "s", "cron": "0 3 * * *\u0085", "job_type": "test:noop"}""", "cron");
        await AcceptedByBothAsync(app, contract, "POST", "/schedules", "/schedules", """{"name": "s", "cron": "0 3 * * *", "job_type": "test:noop", "time_zone": "Europe/Berlin"}""");
    }

    [Fact]
    public async Task WorkflowName_WithAControlCharacter_IsRefusedByBoth()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);

        await RefusedByBothAsync(app, contract, "POST", "/workflows", "/workflows", """{"name": "a\u0001b", "steps": [{"name": "s", "job": {"type": "test:noop"}}]}""", "name");
        await RefusedByBothAsync(app, contract, "POST", "/workflows", "/workflows", """{"name": "a\u009fb", "steps": [{"name": "s", "job": {"type": "test:noop"}}]}""", "name");
        await AcceptedByBothAsync(app, contract, "POST", "/workflows", "/workflows", """{"name": "monthly report é", "steps": [{"name": "s", "job": {"type": "test:noop"}}]}""");
    }

    [Fact]
    public async Task Responses_DocumentTheReplayHeader_AndTheServersOwnAnswers()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);

        foreach (var (method, path) in new[] { ("POST", "/batches"), ("POST", "/workflows"), ("POST", "/batches/{batchId}/jobs") })
        {
            Assert.NotNull(contract.Operation(method, path)["responses"]!["201"]!["headers"]?["Idempotent-Replayed"]);
        }

        foreach (var (method, path) in contract.Operations)
        {
            var responses = contract.Operation(method, path)["responses"]!;
            foreach (var status in new[] { "414", "431" })
            {
                Assert.True(responses[status] is { } response && response["content"] is null, $"{method} {path} does not document the server's own {status}");
            }

            Assert.Contains("without a body", responses["400"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
            if (contract.Operation(method, path)["requestBody"] is not null)
            {
                Assert.True(responses["408"]?["content"]?["application/problem+json"] is not null, $"{method} {path} does not document the 408 of a body that does not arrive");
            }
            else
            {
                Assert.True(responses["408"] is { } timeout && timeout["content"] is null, $"{method} {path} does not document the server's own 408 of headers that do not arrive");
            }

            Assert.Contains("RequestHeadersTimeout", responses["408"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ProblemSchemas_DocumentTheMembersTheServerAdds()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var schemas = contract.Document["components"]!["schemas"]!.AsObject();

        foreach (var name in new[] { "ProblemDetails", "HttpValidationProblemDetails" })
        {
            var properties = schemas[name]?["properties"]?.AsObject();
            Assert.True(properties is not null, $"no schema {name}: {string.Join(", ", schemas.Select(static p => p.Key))}");
            foreach (var member in new[] { "traceId", "field", "limit" })
            {
                Assert.True(properties.ContainsKey(member), $"{name} has no {member}");
            }
        }
    }
}
