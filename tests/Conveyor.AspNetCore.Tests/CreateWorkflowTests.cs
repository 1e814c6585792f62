using System.Net;
using System.Text.Json;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// POST /workflows: the steps are stored together or not at all, in the caller's tenant; names, dependencies and cycles
/// are checked before anything is stored, every refusal naming its field (steps[3].after[0]); an Idempotency-Key repeat
/// answers the first workflow.
/// </summary>
public sealed class CreateWorkflowTests
{
    private const string FanOut = """
        {"name": "monthly-report", "steps": [
          {"name": "extract", "job": {"type": "test:noop", "payload": {"month": "2026-11"}, "queue": "nobody"}},
          {"name": "sales", "job": {"type": "test:noop", "queue": "nobody"}, "after": ["extract"]},
          {"name": "costs", "job": {"type": "test:noop", "queue": "nobody"}, "after": ["extract"], "on_dependency_failure": "fail"},
          {"name": "report", "job": {"type": "test:noop", "queue": "nobody"}, "after": ["sales", "costs"], "on_dependency_failure": "run"}
        ]}
        """;

    private static async Task<JsonElement> CreatedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Post_StoresTheSteps_AndAnswersEachStepsJobId()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var response = await app.PostAsync("/workflows", FanOut, TestApp.KeyA);
        var created = await CreatedAsync(response);

        var workflowId = created.GetProperty("workflow_id").GetString()!;
        Assert.Equal($"/workflows/{workflowId}", response.Headers.Location?.OriginalString);
        Assert.Equal(("monthly-report", "RUNNING"), (created.GetProperty("name").GetString(), created.GetProperty("status").GetString()));
        var steps = created.GetProperty("steps").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.Equal(["extract", "sales", "costs", "report"], steps.Keys);
        using var shown = await app.SendAsync(HttpMethod.Get, $"/workflows/{workflowId}", TestApp.KeyA);
        var workflow = JsonDocument.Parse(await shown.Content.ReadAsStringAsync()).RootElement;
        var byName = workflow.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(steps["report"], byName["report"].GetProperty("job_id").GetString());
        Assert.Equal("QUEUED", byName["extract"].GetProperty("status").GetString());
        Assert.Equal("WAITING", byName["report"].GetProperty("status").GetString());
        Assert.Equal(["sales", "costs"], byName["report"].GetProperty("after").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(4, (await app.StoredJobsAsync("tenant-a")).Count);
    }

    [Fact]
    public async Task Post_WithWorkers_AFailedStepFollowsEachDependantsPolicy()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var body = """
            {"steps": [
              {"name": "a", "job": {"type": "test:fail"}},
              {"name": "cancelled", "job": {"type": "test:noop"}, "after": ["a"]},
              {"name": "failed", "job": {"type": "test:noop"}, "after": ["a"], "on_dependency_failure": "fail"},
              {"name": "ran", "job": {"type": "test:noop"}, "after": ["a"], "on_dependency_failure": "run"}
            ]}
            """;

        var steps = (await CreatedAsync(await app.PostAsync("/workflows", body))).GetProperty("steps");

        await app.WaitForStatusAsync(steps.GetProperty("ran").GetString()!, null, "SUCCESS");
        await app.WaitForStatusAsync(steps.GetProperty("failed").GetString()!, null, "FAILED");
        await app.WaitForStatusAsync(steps.GetProperty("cancelled").GetString()!, null, "CANCELLED");
    }

    [Fact]
    public async Task Post_PutsEveryStepInTheCallersTenant_AndAnotherTenantCannotSeeIt()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        var workflowId = (await CreatedAsync(await app.PostAsync("/workflows", FanOut, TestApp.KeyB))).GetProperty("workflow_id").GetString();

        Assert.Equal(4, (await app.StoredJobsAsync("tenant-b")).Count);
        await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Get, $"/workflows/{workflowId}", TestApp.KeyA), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows?tenant=tenant-b", FanOut, TestApp.KeyA), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows", FanOut), HttpStatusCode.Unauthorized);
        await CreatedAsync(await app.PostAsync("/workflows?tenant=tenant-a", FanOut, TestApp.AdminKey));
        Assert.Equal(4, (await app.StoredJobsAsync("tenant-a")).Count);
    }

    [Theory]
    [InlineData("[]", "body")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}}]""", "body")]
    [InlineData("{}", "steps")]
    [InlineData("""{"steps": []}""", "steps")]
    [InlineData("""{"steps": null}""", "steps")]
    [InlineData("""{"steps": {"name": "a"}}""", "steps")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}}], "color": 1}""", "color")]
    [InlineData("""{"name": "", "steps": [{"name": "a", "job": {"type": "test:noop"}}]}""", "name")]
    [InlineData("""{"name": 7, "steps": [{"name": "a", "job": {"type": "test:noop"}}]}""", "name")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}}, "b"]}""", "steps[1]")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}}, {"job": {"type": "test:noop"}}]}""", "steps[1].name")]
    [InlineData("""{"steps": [{"name": "a b", "job": {"type": "test:noop"}}]}""", "steps[0].name")]
    [InlineData("""{"steps": [{"name": null, "job": {"type": "test:noop"}}]}""", "steps[0].name")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}}, {"name": "a", "job": {"type": "test:noop"}}]}""", "steps[1].name")]
    [InlineData("""{"steps": [{"name": "a"}]}""", "steps[0].job")]
    [InlineData("""{"steps": [{"name": "a", "job": null}]}""", "steps[0].job")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "nobody:runs"}}]}""", "steps[0].job.type")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop", "max_retry": -1}}]}""", "steps[0].job.max_retry")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}, "type": "test:noop"}]}""", "steps[0].type")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}, "after": "b"}]}""", "steps[0].after")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}, "after": [1]}]}""", "steps[0].after[0]")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}}, {"name": "b", "job": {"type": "test:noop"}, "after": ["a", "a"]}]}""", "steps[1].after[1]")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}}, {"name": "b", "job": {"type": "test:noop"}, "after": ["a", "z"]}]}""", "steps[1].after[1]")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}, "after": ["a"]}]}""", "steps[0].after[0]")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}, "after": ["c"]}, {"name": "b", "job": {"type": "test:noop"}, "after": ["a"]}, {"name": "c", "job": {"type": "test:noop"}, "after": ["b"]}]}""", "steps[1].after[0]")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}, "on_dependency_failure": "explode"}]}""", "steps[0].on_dependency_failure")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}, "on_dependency_failure": 1}]}""", "steps[0].on_dependency_failure")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}, "on_dependency_failure": "run"}]}""", "steps[0].on_dependency_failure")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}, "after": [], "on_dependency_failure": "fail"}]}""", "steps[0].on_dependency_failure")]
    [InlineData("""{"steps": [{"name": "a", "job": {"type": "test:noop"}}], "retention_seconds": -1}""", "retention_seconds")]
    public async Task Post_BadField_Is400NamingIt_AndStoresNothing(string body, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostAsync("/workflows", body);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Theory]
    [InlineData(200, 201)] // 200 emoji are 400 UTF-16 units: the name's length is counted in characters, as the schema's maxLength is
    [InlineData(201, 400)]
    public async Task Post_ANameOfEmoji_IsCountedInCharacters_NotUtf16Units(int emoji, int status)
    {
        await using var app = await TestApp.StartAsync();
        var name = string.Concat(Enumerable.Repeat("\U0001F642", emoji));

        using var response = await app.PostAsync("/workflows", JsonSerializer.Serialize(new { name, steps = new[] { new { name = "a", job = new { type = "test:noop", queue = "nobody" } } } }));

        if (status == 201)
        {
            Assert.Equal(name, (await CreatedAsync(response)).GetProperty("name").GetString());
            Assert.Single(await app.StoredJobsAsync());
        }
        else
        {
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "name");
            Assert.Empty(await app.StoredJobsAsync());
        }
    }

    [Fact]
    public async Task Post_ACycle_NamesTheStepsInIt()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostAsync("/workflows", """{"steps": [{"name": "a", "job": {"type": "test:noop"}, "after": ["c"]}, {"name": "b", "job": {"type": "test:noop"}, "after": ["a"]}, {"name": "c", "job": {"type": "test:noop"}, "after": ["b"]}]}""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "steps[1].after[0]");
        Assert.Contains("a → b → c → a, each running after the one before it", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_MoreStepsThanTheCapOrTooManyDependencies_Is400()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxRequestBytes"] = "1000000" });
        var many = string.Join(", ", Enumerable.Range(0, 1001).Select(i => $$$"""{"name": "s{{{i}}}", "job": {"type": "test:noop"}}"""));
        var after = string.Join(", ", Enumerable.Range(0, 101).Select(i => $"\"s{i}\""));

        await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows", $$"""{"steps": [{{many}}]}"""), HttpStatusCode.BadRequest, "steps");
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows", $$"""{"steps": [{"name": "x", "job": {"type": "test:noop"}, "after": [{{after}}]}]}"""), HttpStatusCode.BadRequest, "steps[0].after");
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_MoreDependenciesInTotalThanTheCap_Is400NamingTheStepThatPassesIt_AndStoresNothing()
    {
        // 1,000 steps each after the 100 before it (the most one step may name): 94,950 dependencies, which held the store
        // for seconds in one write, long enough for jobs running on other servers to lose their leases.
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxRequestBytes"] = "10000000" });
        string Steps(int window) => string.Join(", ", Enumerable.Range(0, 1000).Select(i =>
            $$$"""{"name": "s{{{i}}}", "job": {"type": "test:noop"}, "after": [{{{string.Join(", ", Enumerable.Range(Math.Max(0, i - window), i - Math.Max(0, i - window)).Select(j => $"\"s{j}\""))}}}]}"""));

        var problem = await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows", $$"""{"steps": [{{Steps(100)}}]}"""), HttpStatusCode.BadRequest, "steps[150].after");
        Assert.Contains("dependencies to 10050", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("at most 10000", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await app.StoredJobsAsync());

        // Ten before each: 9,945 in total, taken.
        using var taken = await app.PostAsync("/workflows", $$"""{"steps": [{{Steps(10)}}]}""");
        Assert.Equal(HttpStatusCode.Created, taken.StatusCode);
        Assert.Equal(1000, (await app.StoredJobsAsync()).Count);
    }

    [Fact]
    public async Task Post_AStepTheStoreRefuses_Is409NamingIt_AndStoresNoStep()
    {
        await using var app = await TestApp.StartAsync();
        await app.CreateAsync(extra: """, "queue": "nobody", "unique_key": "k", "unique_for_seconds": 60""");

        using var response = await app.PostAsync("/workflows", """{"steps": [{"name": "b", "job": {"type": "test:noop", "unique_key": "k", "unique_for_seconds": 60}, "after": ["a"]}, {"name": "a", "job": {"type": "test:noop"}}]}""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.StartsWith("steps[0].job:", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Single(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_RepeatWithTheSameIdempotencyKey_AnswersTheFirstWorkflow_AndADifferentBodyIs409()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        var first = await CreatedAsync(await app.PostAsync("/workflows", FanOut, TestApp.KeyA, idempotencyKey: "report-2026-11"));
        using var repeat = await app.PostAsync("/workflows", FanOut, TestApp.KeyA, idempotencyKey: "report-2026-11");
        var second = await CreatedAsync(repeat);

        Assert.Equal("true", repeat.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.GetProperty("workflow_id").GetString(), second.GetProperty("workflow_id").GetString());
        Assert.Equal(first.GetProperty("steps").GetRawText(), second.GetProperty("steps").GetRawText());
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows", FanOut.Replace("2026-11", "2026-12", StringComparison.Ordinal), TestApp.KeyA, idempotencyKey: "report-2026-11"), HttpStatusCode.Conflict);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows", FanOut.Replace("\"sales\", \"costs\"", "\"sales\"", StringComparison.Ordinal), TestApp.KeyA, idempotencyKey: "report-2026-11"), HttpStatusCode.Conflict);
        // Another policy for a failed dependency, or another name, is another workflow too.
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows", FanOut.Replace("\"on_dependency_failure\": \"fail\"", "\"on_dependency_failure\": \"cancel\"", StringComparison.Ordinal), TestApp.KeyA, idempotencyKey: "report-2026-11"), HttpStatusCode.Conflict);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows", FanOut.Replace("monthly-report", "weekly-report", StringComparison.Ordinal), TestApp.KeyA, idempotencyKey: "report-2026-11"), HttpStatusCode.Conflict);
        // The same key for a batch is another request altogether.
        await CreatedAsync(await app.PostAsync("/batches", """{"jobs": [{"type": "test:noop", "queue": "nobody"}]}""", TestApp.KeyA, idempotencyKey: "report-2026-11"));
        Assert.Equal(5, (await app.StoredJobsAsync("tenant-a")).Count);
    }

    [Fact]
    public async Task JobsAddedToAWorkflow_AreListedAsAddedJobs_AndARepeatOfItsCreateStillReplays()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var first = await CreatedAsync(await app.PostAsync("/workflows", FanOut, TestApp.KeyA, idempotencyKey: "with-more"));
        var workflowId = first.GetProperty("workflow_id").GetString()!;

        var added = await CreatedAsync(await app.PostAsync($"/batches/{workflowId}/jobs", """{"jobs": [{"type": "test:noop", "queue": "nobody"}]}""", TestApp.KeyA));
        using var repeat = await app.PostAsync("/workflows", FanOut, TestApp.KeyA, idempotencyKey: "with-more");
        using var read = await app.SendAsync(HttpMethod.Get, $"/workflows/{workflowId}", TestApp.KeyA);
        var workflow = await ProblemAssert.ReadJsonAsync(read);

        Assert.Equal(HttpStatusCode.Created, repeat.StatusCode);
        Assert.Equal(first.GetProperty("steps").GetRawText(), (await CreatedAsync(repeat)).GetProperty("steps").GetRawText());
        var defined = first.GetProperty("steps").EnumerateObject().Count();
        Assert.Equal(defined, workflow.GetProperty("steps").GetArrayLength());
        var addedJob = Assert.Single(workflow.GetProperty("added_jobs").EnumerateArray());
        Assert.Equal(added.GetProperty("job_ids")[0].GetString(), addedJob.GetProperty("job_id").GetString());
        Assert.Equal(defined + 1, workflow.GetProperty("batch").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Post_RepeatAfterTheWorkflowRecordWasPurged_Is409SayingSo()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(withKeys: true, services: s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
        const string Body = """{"steps": [{"name": "a", "job": {"type": "test:noop", "queue": "nobody"}}], "retention_seconds": 1}""";
        var workflowId = (await CreatedAsync(await app.PostAsync("/workflows", Body, TestApp.KeyA, idempotencyKey: "wf-19"))).GetProperty("workflow_id").GetString();
        await app.SendAsync(HttpMethod.Post, $"/batches/{workflowId}/cancel", TestApp.KeyA);
        time.Advance(TimeSpan.FromSeconds(2));
        await app.Store.PurgeExpiredAsync(100, CancellationToken.None);
        await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Get, $"/workflows/{workflowId}", TestApp.KeyA), HttpStatusCode.NotFound);

        var problem = await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows", Body, TestApp.KeyA, idempotencyKey: "wf-19"), HttpStatusCode.Conflict);

        Assert.Contains("no longer kept", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_WhatAClusterRefusesInAWorkflow_Is400NamingTheStepsUniqueKey_OrTheHeader()
    {
        await using var app = await TestApp.StartAsync(
            withKeys: true,
            services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>(_ => CreateBatchTests.ClusterLikeStore.Create(new InMemoryJobStore(TimeProvider.System)))));
        const string WithUniqueKey = """
            {"steps": [
              {"name": "extract", "job": {"type": "test:noop", "queue": "nobody"}},
              {"name": "report", "job": {"type": "test:noop", "queue": "nobody", "unique_key": "report-1", "unique_for_seconds": 60}, "after": ["extract"]}]}
            """;

        var problem = await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows", WithUniqueKey, TestApp.KeyA), HttpStatusCode.BadRequest, "steps[1].job.unique_key");
        Assert.Contains("unique key 'report-1'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/workflows", FanOut, TestApp.KeyA, idempotencyKey: "wf-cluster"), HttpStatusCode.BadRequest, "Idempotency-Key");
    }
}
