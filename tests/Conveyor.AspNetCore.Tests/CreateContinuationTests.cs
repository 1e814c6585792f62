using System.Net;
using System.Text.Json;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// POST /jobs with <c>after</c>: the new job waits (WAITING) for existing jobs of the caller's tenant and runs, is
/// cancelled or fails as <c>on_dependency_failure</c> says once they finish; a dependency that already finished counts
/// at once; an unknown id and another tenant's are the same 400 naming <c>after[i]</c>; every bad shape is a 400 naming
/// the field; an Idempotency-Key repeat compares <c>after</c> and the policy as it compares the other fields.
/// </summary>
public sealed class CreateContinuationTests
{
    /// <summary>A well-formed id no job has.</summary>
    private const string Unknown = "job_00000000000000000000000000000000";

    private static async Task<JsonElement> AcceptedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string Continuation(string type, string policy, params string[] after) =>
        $$"""{"type": "{{type}}", "after": [{{string.Join(", ", after.Select(a => $"\"{a}\""))}}]{{(policy.Length == 0 ? "" : $", \"on_dependency_failure\": \"{policy}\"")}}}""";

    /// <summary>A job held back an hour (SCHEDULED), to be started with POST /jobs/{id}/retry once its dependants are stored.</summary>
    private static Task<string> HeldAsync(TestApp app, string type, string? key = null) =>
        app.CreateAsync(type, key, extra: ", \"process_in_seconds\": 3600");

    private static async Task StartNowAsync(TestApp app, string jobId)
    {
        using var response = await app.SendAsync(HttpMethod.Post, $"/jobs/{jobId}/retry");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Post_WithAfter_IsWaiting_ShowsWhatItWaitsFor_AndRunsOnceItsDependencySucceeds()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var first = await HeldAsync(app, "test:noop");
        var second = await HeldAsync(app, "test:noop");

        using var response = await app.PostJobAsync(Continuation("test:noop", "", first, second));
        await contract.CheckAsync("POST", "/jobs", response, HttpStatusCode.Accepted);
        var created = await AcceptedAsync(response);

        var id = created.GetProperty("job_id").GetString()!;
        Assert.Equal("WAITING", created.GetProperty("status").GetString());
        Assert.Equal([first, second], created.GetProperty("depends_on").EnumerateArray().Select(d => d.GetString()));
        var shown = await app.GetJobAsync(id);
        Assert.Equal(("WAITING", 2), (shown.GetProperty("status").GetString(), shown.GetProperty("depends_on").GetArrayLength()));

        await StartNowAsync(app, first);
        await app.WaitForStatusAsync(first, null, "SUCCESS");
        Assert.Equal("WAITING", (await app.GetJobAsync(id)).GetProperty("status").GetString());
        await StartNowAsync(app, second);
        await app.WaitForStatusAsync(id, null, "SUCCESS");
    }

    [Fact]
    public async Task Post_WithAfter_ADependencyThatFails_IsFollowedAsEachPolicySays()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var parent = await HeldAsync(app, "test:fail");
        var cancelled = (await AcceptedAsync(await app.PostJobAsync(Continuation("test:noop", "", parent)))).GetProperty("job_id").GetString()!;
        var failed = (await AcceptedAsync(await app.PostJobAsync(Continuation("test:noop", "fail", parent)))).GetProperty("job_id").GetString()!;
        var ran = (await AcceptedAsync(await app.PostJobAsync(Continuation("test:noop", "run", parent)))).GetProperty("job_id").GetString()!;

        await StartNowAsync(app, parent);

        await app.WaitForStatusAsync(ran, null, "SUCCESS");
        var failedJob = await app.WaitForStatusAsync(failed, null, "FAILED");
        var cancelledJob = await app.WaitForStatusAsync(cancelled, null, "CANCELLED");
        Assert.Equal("FAILED", (await app.GetJobAsync(parent)).GetProperty("status").GetString());
        foreach (var job in new[] { failedJob, cancelledJob })
        {
            Assert.Equal(0, job.GetProperty("attempts").GetInt32());
            Assert.Contains(job.GetProperty("errors").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains(parent, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("test:noop", "", "QUEUED")]
    [InlineData("test:fail", "", "CANCELLED")]
    [InlineData("test:fail", "fail", "FAILED")]
    [InlineData("test:fail", "run", "QUEUED")]
    public async Task Post_AfterAJobThatAlreadyFinished_IsResolvedAtOnce(string parentType, string policy, string status)
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var parent = await app.CreateAsync(parentType);
        await app.WaitForStatusAsync(parent, null, parentType == "test:noop" ? "SUCCESS" : "FAILED");

        var created = await AcceptedAsync(await app.PostJobAsync(Continuation("test:noop", policy, parent)));

        // The status it was stored with: a worker may have run a released one since.
        Assert.Equal(status, created.GetProperty("status").GetString());
        Assert.Equal([parent], created.GetProperty("depends_on").EnumerateArray().Select(d => d.GetString()));
    }

    [Fact]
    public async Task Post_AfterAnotherTenantsJob_IsTheSame400AsAfterAnUnknownId_AndStoresNothing()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var own = await app.CreateAsync(key: TestApp.KeyA);
        var foreign = await app.CreateAsync(key: TestApp.KeyB);

        using var ofForeign = await app.PostJobAsync(Continuation("test:noop", "", own, foreign), TestApp.KeyA);
        using var ofUnknown = await app.PostJobAsync(Continuation("test:noop", "", own, Unknown), TestApp.KeyA);

        await contract.CheckAsync("POST", "/jobs", ofForeign, HttpStatusCode.BadRequest);
        var foreignProblem = await ProblemAssert.IsProblemAsync(ofForeign, HttpStatusCode.BadRequest, "after[1]");
        var unknownProblem = await ProblemAssert.IsProblemAsync(ofUnknown, HttpStatusCode.BadRequest, "after[1]");
        Assert.Equal(
            unknownProblem.GetProperty("detail").GetString()!.Replace(Unknown, "{id}", StringComparison.Ordinal),
            foreignProblem.GetProperty("detail").GetString()!.Replace(foreign, "{id}", StringComparison.Ordinal));
        Assert.Equal([own], (await app.StoredJobsAsync("tenant-a")).Select(j => j.Id));
        Assert.Equal([foreign], (await app.StoredJobsAsync("tenant-b")).Select(j => j.Id));
    }

    [Theory]
    [InlineData("""{"type": "test:noop", "after": []}""")]
    [InlineData("""{"type": "test:noop", "after": null}""")]
    public async Task Post_WithAnEmptyOrNullAfter_IsAJobThatWaitsForNone(string body)
    {
        await using var app = await TestApp.StartAsync();

        var created = await AcceptedAsync(await app.PostJobAsync(body));

        Assert.Equal("QUEUED", created.GetProperty("status").GetString());
        var stored = Assert.Single(await app.StoredJobsAsync());
        Assert.Equal(JobState.Pending, stored.State);
        Assert.Empty(stored.DependsOn);
    }

    [Theory]
    [InlineData("""{"type": "test:noop", "after": "job_1"}""", "after")]
    [InlineData("""{"type": "test:noop", "after": {"id": "job_1"}}""", "after")]
    [InlineData("""{"type": "test:noop", "after": [], "on_dependency_failure": "fail"}""", "on_dependency_failure")]
    [InlineData("""{"type": "test:noop", "after": ["job_1", "job_2", "job_1"]}""", "after[2]")]
    [InlineData("""{"type": "test:noop", "after": ["job_1", 2]}""", "after[1]")]
    [InlineData("""{"type": "test:noop", "after": [null]}""", "after[0]")]
    [InlineData("""{"type": "test:noop", "after": ["job 1"]}""", "after[0]")]
    [InlineData("""{"type": "test:noop", "after": [""]}""", "after[0]")]
    [InlineData("""{"type": "test:noop", "after": ["job_1"], "on_dependency_failure": "ignore"}""", "on_dependency_failure")]
    [InlineData("""{"type": "test:noop", "on_dependency_failure": "run"}""", "on_dependency_failure")]
    public async Task Post_BadAfterOrPolicy_Is400NamingTheField_AndStoresNothing(string body, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostJobAsync(body);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_MoreIdsThanAJobMayWaitFor_Is400()
    {
        await using var app = await TestApp.StartAsync();
        var ids = Enumerable.Range(0, JobsApi.JobDependenciesParser.MaxAfter + 1).Select(i => $"job_{i}").ToArray();

        using var tooMany = await app.PostJobAsync(Continuation("test:noop", "", ids));
        using var atTheBound = await app.PostJobAsync(Continuation("test:noop", "", ids[1..]));

        var problem = await ProblemAssert.IsProblemAsync(tooMany, HttpStatusCode.BadRequest, "after");
        Assert.Contains($"at most {JobsApi.JobDependenciesParser.MaxAfter}", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // Within the bound the shape passes; the store then finds none of these jobs.
        await ProblemAssert.IsProblemAsync(atTheBound, HttpStatusCode.BadRequest, "after[0]");
    }

    [Theory]
    [InlineData("/batches", """{"jobs": [{"type": "test:noop", "after": ["job_1"]}]}""", "jobs[0].after")]
    [InlineData("/batches", """{"jobs": [{"type": "test:noop"}], "on_success": {"type": "test:noop", "on_dependency_failure": "run"}}""", "on_success.on_dependency_failure")]
    [InlineData("/workflows", """{"steps": [{"name": "a", "job": {"type": "test:noop", "after": ["job_1"]}}]}""", "steps[0].job.after")]
    public async Task AJobOfABatchOrWorkflow_DoesNotTakeAfter(string path, string body, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostAsync(path, body);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Post_RepeatWithTheSameKeyAndAfter_ReplaysTheFirstJob_EvenOnceItsDependencyFinished()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var first = await HeldAsync(app, "test:noop");
        var second = await HeldAsync(app, "test:noop");
        var body = Continuation("test:noop", "fail", first, second);

        var created = await AcceptedAsync(await app.PostJobAsync(body, idempotencyKey: "after-17"));
        using var repeat = await app.PostJobAsync(Continuation("test:noop", "fail", second, first), idempotencyKey: "after-17");
        var replayed = await AcceptedAsync(repeat);
        await StartNowAsync(app, first);
        await StartNowAsync(app, second);
        var id = created.GetProperty("job_id").GetString()!;
        await app.WaitForStatusAsync(id, null, "SUCCESS");
        var late = await AcceptedAsync(await app.PostJobAsync(body, idempotencyKey: "after-17"));

        Assert.Equal(id, replayed.GetProperty("job_id").GetString());
        Assert.Equal("true", repeat.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal((id, "SUCCESS"), (late.GetProperty("job_id").GetString(), late.GetProperty("status").GetString()));
        Assert.Equal(3, (await app.StoredJobsAsync()).Count);
    }

    [Fact]
    public async Task Post_SameKeyWithAnotherAfterOrPolicy_Is409_AndStoresNothing()
    {
        await using var app = await TestApp.StartAsync();
        var first = await HeldAsync(app, "test:noop");
        var second = await HeldAsync(app, "test:noop");
        await AcceptedAsync(await app.PostJobAsync(Continuation("test:noop", "", first), idempotencyKey: "after-18"));

        foreach (var body in new[]
        {
            Continuation("test:noop", "", second),
            Continuation("test:noop", "", first, second),
            Continuation("test:noop", "run", first),
            """{"type": "test:noop"}""",
        })
        {
            using var response = await app.PostJobAsync(body, idempotencyKey: "after-18");
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        }

        // The key's job without after, repeated with one, is refused too.
        await AcceptedAsync(await app.PostJobAsync("""{"type": "test:noop"}""", idempotencyKey: "plain-18"));
        using var withAfter = await app.PostJobAsync(Continuation("test:noop", "", first), idempotencyKey: "plain-18");
        await ProblemAssert.IsProblemAsync(withAfter, HttpStatusCode.Conflict);
        Assert.Equal(4, (await app.StoredJobsAsync()).Count);
    }

    [Fact]
    public async Task Post_WithAfter_WhatAClusterRefuses_Is400NamingUniqueKeyOrTheHeader_NotTheBody()
    {
        await using var app = await TestApp.StartAsync(
            services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>(_ => CreateBatchTests.ClusterLikeStore.Create(new InMemoryJobStore(TimeProvider.System)))));
        var first = await HeldAsync(app, "test:noop");

        var problem = await ProblemAssert.IsProblemAsync(
            await app.PostJobAsync(Continuation("test:noop", "", first).Replace("\"after\"", "\"unique_key\": \"u-1\", \"unique_for_seconds\": 60, \"after\"", StringComparison.Ordinal)),
            HttpStatusCode.BadRequest,
            "unique_key");
        Assert.Contains("unique key 'u-1'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await ProblemAssert.IsProblemAsync(await app.PostJobAsync(Continuation("test:noop", "", first), idempotencyKey: "after-1"), HttpStatusCode.BadRequest, "Idempotency-Key");
    }
}
