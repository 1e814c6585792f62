using System.Net;
using System.Reflection;
using System.Text.Json;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// POST /batches and POST /batches/{id}/jobs: the jobs and callbacks are stored together or not at all, in the caller's
/// tenant whatever the body says, every bad field is a 400 that names it, and an Idempotency-Key repeat answers the first
/// batch.
/// </summary>
public sealed class CreateBatchTests
{
    private const string TwoJobs = """{"jobs": [{"type": "test:noop", "payload": {"n": 1}, "queue": "nobody"}, {"type": "test:noop", "payload": {"n": 2}, "queue": "nobody"}], "on_success": {"type": "test:noop", "payload": {"done": true}}, "on_complete": {"type": "test:noop"}}""";

    private static async Task<JsonElement> CreatedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Post_StoresTheJobsAndCallbacks_AndAnswersTheirIds()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var response = await app.PostAsync("/batches", TwoJobs, TestApp.KeyA);
        var created = await CreatedAsync(response);

        var batchId = created.GetProperty("batch_id").GetString()!;
        Assert.Equal($"/batches/{batchId}", response.Headers.Location?.OriginalString);
        Assert.Equal("RUNNING", created.GetProperty("status").GetString());
        var jobIds = created.GetProperty("job_ids").EnumerateArray().Select(j => j.GetString()!).ToList();
        Assert.Equal(2, jobIds.Count);
        var first = await app.GetJobAsync(jobIds[0], TestApp.KeyA);
        Assert.Equal((batchId, "QUEUED", "nobody"), (first.GetProperty("batch_id").GetString(), first.GetProperty("status").GetString(), first.GetProperty("queue").GetString()));
        Assert.Equal("""{"n":1}""", first.GetProperty("payload").GetRawText());
        var onSuccess = await app.GetJobAsync(created.GetProperty("on_success_job_id").GetString()!, TestApp.KeyA);
        Assert.Equal("WAITING", onSuccess.GetProperty("status").GetString());
        Assert.Equal("WAITING", (await app.GetJobAsync(created.GetProperty("on_complete_job_id").GetString()!, TestApp.KeyA)).GetProperty("status").GetString());
        using var batch = await app.SendAsync(HttpMethod.Get, $"/batches/{batchId}", TestApp.KeyA);
        var shown = JsonDocument.Parse(await batch.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((2, "tenant-a"), (shown.GetProperty("total").GetInt32(), shown.GetProperty("tenant").GetString()));
    }

    [Fact]
    public async Task Post_WithWorkers_RunsTheJobsThenTheCallbacks()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);

        var created = await CreatedAsync(await app.PostAsync("/batches", """{"jobs": [{"type": "test:noop"}, {"type": "test:fail"}], "on_success": {"type": "test:noop"}, "on_complete": {"type": "test:noop"}}"""));

        await app.WaitForStatusAsync(created.GetProperty("on_complete_job_id").GetString()!, null, "SUCCESS");
        await app.WaitForStatusAsync(created.GetProperty("on_success_job_id").GetString()!, null, "CANCELLED");
    }

    [Fact]
    public async Task Post_WithoutCallbacks_AnswersNullCallbackIds()
    {
        await using var app = await TestApp.StartAsync();

        var created = await CreatedAsync(await app.PostAsync("/batches", """{"jobs": [{"type": "test:noop", "queue": "nobody"}], "on_success": null, "retention_seconds": 60}"""));

        Assert.Equal(JsonValueKind.Null, created.GetProperty("on_success_job_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, created.GetProperty("on_complete_job_id").ValueKind);
        Assert.Single(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_PutsEveryJobInTheCallersTenant_AndAnotherTenantCannotSeeIt()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        var created = await CreatedAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyB));
        var batchId = created.GetProperty("batch_id").GetString()!;

        Assert.Equal(4, (await app.StoredJobsAsync("tenant-b")).Count);
        Assert.Empty(await app.StoredJobsAsync("tenant-a"));
        await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Get, $"/batches/{batchId}", TestApp.KeyA), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await app.PostAsync($"/batches/{batchId}/jobs", """{"jobs": [{"type": "test:noop"}]}""", TestApp.KeyA), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches?tenant=tenant-b", TwoJobs, TestApp.KeyA), HttpStatusCode.Forbidden);
        Assert.Empty(await app.StoredJobsAsync("tenant-a"));

        // An admin key creates in the tenant it names.
        await CreatedAsync(await app.PostAsync("/batches?tenant=tenant-a", TwoJobs, TestApp.AdminKey));
        Assert.Equal(4, (await app.StoredJobsAsync("tenant-a")).Count);
        Assert.Empty(await app.StoredJobsAsync("ops"));
    }

    [Fact]
    public async Task Post_WithoutAKey_Is401()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", TwoJobs), HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("[]", "body")]
    [InlineData("{}", "jobs")]
    [InlineData("""{"jobs": []}""", "jobs")]
    [InlineData("""{"jobs": {"type": "test:noop"}}""", "jobs")]
    [InlineData("""{"jobs": null}""", "jobs")]
    [InlineData("""{"jobs": [{"type": "test:noop"}], "colour": "red"}""", "colour")]
    [InlineData("""{"jobs": [{"type": "test:noop"}], "jobs": [{"type": "test:noop"}]}""", "jobs")]
    [InlineData("""{"jobs": [{"type": "test:noop"}, 42]}""", "jobs[1]")]
    [InlineData("""{"jobs": [{"type": "test:noop"}, null]}""", "jobs[1]")]
    [InlineData("""{"jobs": [{"type": "test:noop"}, {}]}""", "jobs[1].type")]
    [InlineData("""{"jobs": [{"type": "test:noop"}, {"type": "nobody:runs"}]}""", "jobs[1].type")]
    [InlineData("""{"jobs": [{"type": "test:noop", "queue": "bad queue"}]}""", "jobs[0].queue")]
    [InlineData("""{"jobs": [{"type": "test:noop", "max_retry": "3"}]}""", "jobs[0].max_retry")]
    [InlineData("""{"jobs": [{"type": "test:noop", "after": ["x"]}]}""", "jobs[0].after")]
    [InlineData("""{"jobs": [{"type": "test:note", "payload": {"noteId": 1}}]}""", "jobs[0].payload.noteId")]
    [InlineData("""{"jobs": [{"type": "test:noop"}], "on_success": "test:noop"}""", "on_success")]
    [InlineData("""{"jobs": [{"type": "test:noop"}], "on_complete": {"type": "test:noop", "unique_key": "k"}}""", "on_complete.unique_for_seconds")]
    [InlineData("""{"jobs": [{"type": "test:noop"}], "retention_seconds": 0}""", "retention_seconds")]
    [InlineData("""{"jobs": [{"type": "test:noop"}], "retention_seconds": "1d"}""", "retention_seconds")]
    [InlineData("""{"jobs": [{"type": "test:noop"}]""", "body")]
    [InlineData("""{"jobs": [{"type": "test:noop", "queue": "\ud800"}]}""", "jobs[0].queue")]
    public async Task Post_BadField_Is400NamingIt_AndStoresNothing(string body, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostAsync("/batches", body);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_MoreJobsThanTheCap_Is400()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxRequestBytes"] = "1000000" });
        var body = $$"""{"jobs": [{{string.Join(", ", Enumerable.Repeat("""{"type": "test:noop"}""", 1001))}}]}""";

        await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", body), HttpStatusCode.BadRequest, "jobs");
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_BodyOverTheLimit_Is413()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxRequestBytes"] = "4096" });

        var body = $$"""{"jobs": [{"type": "test:noop", "payload": "{{new string('x', 5000)}}"}]}""";

        await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", body), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Post_AJobTheStoreRefuses_Is409NamingIt_AndStoresNoJobOfTheBatch()
    {
        await using var app = await TestApp.StartAsync();
        await app.CreateAsync(extra: """, "queue": "nobody", "unique_key": "k", "unique_for_seconds": 60""");

        using var response = await app.PostAsync("/batches", """{"jobs": [{"type": "test:noop"}, {"type": "test:noop", "unique_key": "k", "unique_for_seconds": 60}], "on_complete": {"type": "test:noop"}}""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.StartsWith("jobs[1]:", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Single(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_RepeatWithTheSameIdempotencyKey_AnswersTheFirstBatch_AndADifferentBodyIs409()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        var first = await CreatedAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyA, idempotencyKey: "import-17"));
        using var repeat = await app.PostAsync("/batches", TwoJobs, TestApp.KeyA, idempotencyKey: "import-17");
        var second = await CreatedAsync(repeat);

        Assert.Equal("true", repeat.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.GetProperty("batch_id").GetString(), second.GetProperty("batch_id").GetString());
        Assert.Equal(first.GetProperty("job_ids").GetRawText(), second.GetProperty("job_ids").GetRawText());
        Assert.Equal(first.GetProperty("on_success_job_id").GetString(), second.GetProperty("on_success_job_id").GetString());
        Assert.Equal(4, (await app.StoredJobsAsync("tenant-a")).Count);

        await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", TwoJobs.Replace("\"n\": 2", "\"n\": 3", StringComparison.Ordinal), TestApp.KeyA, idempotencyKey: "import-17"), HttpStatusCode.Conflict);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", """{"jobs": [{"type": "test:noop", "payload": {"n": 1}, "queue": "nobody"}]}""", TestApp.KeyA, idempotencyKey: "import-17"), HttpStatusCode.Conflict);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyA, idempotencyKey: "bad key"), HttpStatusCode.BadRequest, "Idempotency-Key");
        Assert.Equal(4, (await app.StoredJobsAsync("tenant-a")).Count);

        // The same key in another tenant is another batch.
        var other = await CreatedAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyB, idempotencyKey: "import-17"));
        Assert.NotEqual(first.GetProperty("batch_id").GetString(), other.GetProperty("batch_id").GetString());
    }

    [Fact]
    public async Task Post_RepeatAfterAJobOfTheFirstBatchWasDeleted_Is409SayingSo_NotThatTheRequestDiffers()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var first = await CreatedAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyA, idempotencyKey: "import-18"));
        var deleted = first.GetProperty("job_ids")[1].GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await app.SendAsync(HttpMethod.Delete, $"/jobs/{deleted}", TestApp.KeyA)).StatusCode);

        var problem = await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyA, idempotencyKey: "import-18"), HttpStatusCode.Conflict);

        Assert.Contains($"job {deleted} of this request is not in it: the first request had other jobs, or that job has been deleted since", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddJobs_AddsToARunningBatch_ThenACancelledBatchIs409()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var created = await CreatedAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyA));
        var batchId = created.GetProperty("batch_id").GetString()!;

        using var response = await app.PostAsync($"/batches/{batchId}/jobs", """{"jobs": [{"type": "test:noop", "queue": "nobody"}, {"type": "test:noop", "queue": "nobody"}]}""", TestApp.KeyA);
        var added = await CreatedAsync(response);

        Assert.Equal($"/batches/{batchId}", response.Headers.Location?.OriginalString);
        Assert.Equal(2, added.GetProperty("job_ids").GetArrayLength());
        var job = await app.GetJobAsync(added.GetProperty("job_ids")[0].GetString()!, TestApp.KeyA);
        Assert.Equal(batchId, job.GetProperty("batch_id").GetString());
        using var batch = await app.SendAsync(HttpMethod.Get, $"/batches/{batchId}", TestApp.KeyA);
        Assert.Equal(4, JsonDocument.Parse(await batch.Content.ReadAsStringAsync()).RootElement.GetProperty("total").GetInt32());

        await ProblemAssert.IsProblemAsync(await app.PostAsync($"/batches/{batchId}/jobs", """{"jobs": [{"type": "test:noop"}], "on_success": null}""", TestApp.KeyA), HttpStatusCode.BadRequest, "on_success");
        await ProblemAssert.IsProblemAsync(await app.PostAsync($"/batches/{batchId}/jobs", """{"jobs": [{"type": "nobody:runs"}]}""", TestApp.KeyA), HttpStatusCode.BadRequest, "jobs[0].type");
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches/batch_nope/jobs", """{"jobs": [{"type": "test:noop"}]}""", TestApp.KeyA), HttpStatusCode.BadRequest, "batch_id");
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches/batch_00000000000000000000000000000000/jobs", """{"jobs": [{"type": "test:noop"}]}""", TestApp.KeyA), HttpStatusCode.NotFound);
        Assert.Equal(6, (await app.StoredJobsAsync("tenant-a")).Count);

        await app.SendAsync(HttpMethod.Post, $"/batches/{batchId}/cancel", TestApp.KeyA);
        await ProblemAssert.IsProblemAsync(await app.PostAsync($"/batches/{batchId}/jobs", """{"jobs": [{"type": "test:noop"}]}""", TestApp.KeyA), HttpStatusCode.Conflict);
        Assert.Equal(6, (await app.StoredJobsAsync("tenant-a")).Count);
    }

    [Fact]
    public async Task Post_TwoJobsOfTheRequestWithOneUniqueKey_Is400NamingBoth_AndStoresNothing()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        const string Job = """{"type": "test:noop", "queue": "nobody", "unique_key": "uq", "unique_for_seconds": 60}""";

        var problem = await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", $$"""{"jobs": [{{Job}}, {{Job}}]}""", TestApp.KeyA), HttpStatusCode.BadRequest, "jobs[1].unique_key");
        Assert.Contains("jobs[0]", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", $$"""{"jobs": [{{Job}}], "on_complete": {{Job}}}""", TestApp.KeyA), HttpStatusCode.BadRequest, "on_complete.unique_key");
        var batchId = (await CreatedAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyA))).GetProperty("batch_id").GetString();
        await ProblemAssert.IsProblemAsync(await app.PostAsync($"/batches/{batchId}/jobs", $$"""{"jobs": [{{Job}}, {{Job}}]}""", TestApp.KeyA), HttpStatusCode.BadRequest, "jobs[1].unique_key");
        await ProblemAssert.IsProblemAsync(
            await app.PostAsync("/workflows", $$"""{"steps": [{"name": "a", "job": {{Job}}}, {"name": "b", "job": {{Job}}, "after": ["a"]}]}""", TestApp.KeyA),
            HttpStatusCode.BadRequest, "steps[1].job.unique_key");
        Assert.Equal(4, (await app.StoredJobsAsync("tenant-a")).Count);
    }

    [Fact]
    public async Task Post_RepeatWithFewerJobs_OnceTheBatchHasFinished_IsStill409()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var first = await CreatedAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyA, idempotencyKey: "import-18"));
        await app.SendAsync(HttpMethod.Post, $"/batches/{first.GetProperty("batch_id").GetString()}/cancel", TestApp.KeyA);

        const string FirstJobOnly = """{"jobs": [{"type": "test:noop", "payload": {"n": 1}, "queue": "nobody"}], "on_success": {"type": "test:noop", "payload": {"done": true}}, "on_complete": {"type": "test:noop"}}""";
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", FirstJobOnly, TestApp.KeyA, idempotencyKey: "import-18"), HttpStatusCode.Conflict);
        using var repeat = await app.PostAsync("/batches", TwoJobs, TestApp.KeyA, idempotencyKey: "import-18");

        Assert.Equal("CANCELLED", (await CreatedAsync(repeat)).GetProperty("status").GetString());
        Assert.Equal("true", repeat.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task Post_RepeatAfterTheBatchRecordWasPurged_Is409SayingSo()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(withKeys: true, services: s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
        var body = TwoJobs.Replace("\"on_complete\"", "\"retention_seconds\": 1, \"on_complete\"", StringComparison.Ordinal);
        var batchId = (await CreatedAsync(await app.PostAsync("/batches", body, TestApp.KeyA, idempotencyKey: "import-19"))).GetProperty("batch_id").GetString();
        await app.SendAsync(HttpMethod.Post, $"/batches/{batchId}/cancel", TestApp.KeyA);
        time.Advance(TimeSpan.FromSeconds(2));
        await app.Store.PurgeExpiredAsync(100, CancellationToken.None);
        await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Get, $"/batches/{batchId}", TestApp.KeyA), HttpStatusCode.NotFound);

        var problem = await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", body, TestApp.KeyA, idempotencyKey: "import-19"), HttpStatusCode.Conflict);

        Assert.Contains("no longer kept", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddJobs_RepeatWithTheSameIdempotencyKey_AnswersTheFirstAdd_AlsoOnceTheBatchHasFinished()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var batchId = (await CreatedAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyA))).GetProperty("batch_id").GetString()!;
        const string Add = """{"jobs": [{"type": "test:noop", "payload": {"n": 3}, "queue": "nobody"}, {"type": "test:noop", "payload": {"n": 4}, "queue": "nobody"}]}""";

        var first = await CreatedAsync(await app.PostAsync($"/batches/{batchId}/jobs", Add, TestApp.KeyA, idempotencyKey: "add-1"));
        using var repeat = await app.PostAsync($"/batches/{batchId}/jobs", Add, TestApp.KeyA, idempotencyKey: "add-1");

        Assert.Equal(first.GetProperty("job_ids").GetRawText(), (await CreatedAsync(repeat)).GetProperty("job_ids").GetRawText());
        Assert.Equal("true", repeat.Headers.GetValues("Idempotent-Replayed").Single());
        using (var batch = await app.SendAsync(HttpMethod.Get, $"/batches/{batchId}", TestApp.KeyA))
        {
            Assert.Equal(4, JsonDocument.Parse(await batch.Content.ReadAsStringAsync()).RootElement.GetProperty("total").GetInt32());
        }

        await ProblemAssert.IsProblemAsync(await app.PostAsync($"/batches/{batchId}/jobs", Add.Replace("\"n\": 4", "\"n\": 5", StringComparison.Ordinal), TestApp.KeyA, idempotencyKey: "add-1"), HttpStatusCode.Conflict);
        await ProblemAssert.IsProblemAsync(await app.PostAsync($"/batches/{batchId}/jobs", """{"jobs": [{"type": "test:noop", "payload": {"n": 3}, "queue": "nobody"}]}""", TestApp.KeyA, idempotencyKey: "add-1"), HttpStatusCode.Conflict);
        await app.SendAsync(HttpMethod.Post, $"/batches/{batchId}/cancel", TestApp.KeyA);
        using var late = await app.PostAsync($"/batches/{batchId}/jobs", Add, TestApp.KeyA, idempotencyKey: "add-1");
        Assert.Equal(first.GetProperty("job_ids").GetRawText(), (await CreatedAsync(late)).GetProperty("job_ids").GetRawText());
        await ProblemAssert.IsProblemAsync(await app.PostAsync($"/batches/{batchId}/jobs", Add, TestApp.KeyA, idempotencyKey: "add-2"), HttpStatusCode.Conflict);
        Assert.Equal(6, (await app.StoredJobsAsync("tenant-a")).Count);
    }

    [Fact]
    public async Task Post_AndAddJobs_WhatAClusterRefusesInABatch_Is400NamingTheFieldOrHeader_NotA409Or500()
    {
        await using var app = await TestApp.StartAsync(
            withKeys: true,
            services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>(_ => ClusterLikeStore.Create(new InMemoryJobStore(TimeProvider.System)))));
        const string WithUniqueKey = """{"jobs": [{"type": "test:noop", "queue": "nobody"}, {"type": "test:noop", "queue": "nobody", "unique_key": "uq", "unique_for_seconds": 60}]}""";

        var problem = await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", WithUniqueKey, TestApp.KeyA), HttpStatusCode.BadRequest, "jobs[1].unique_key");
        Assert.Contains("On a Redis Cluster", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // A key never used before: the store's refusal is not a repeat of an expired batch.
        problem = await ProblemAssert.IsProblemAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyA, idempotencyKey: "never-used"), HttpStatusCode.BadRequest, "Idempotency-Key");
        Assert.DoesNotContain("expired", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var batchId = (await CreatedAsync(await app.PostAsync("/batches", TwoJobs, TestApp.KeyA))).GetProperty("batch_id").GetString()!;
        await ProblemAssert.IsProblemAsync(await app.PostAsync($"/batches/{batchId}/jobs", """{"jobs": [{"type": "test:noop", "queue": "nobody"}]}""", TestApp.KeyA, idempotencyKey: "add-1"), HttpStatusCode.BadRequest, "Idempotency-Key");
        await ProblemAssert.IsProblemAsync(await app.PostAsync($"/batches/{batchId}/jobs", WithUniqueKey, TestApp.KeyA), HttpStatusCode.BadRequest, "jobs[1].unique_key");
        Assert.Equal(4, (await app.StoredJobsAsync("tenant-a")).Count);
    }

    /// <summary>
    /// A store that refuses a batch, and a job that waits for others, as a Redis Cluster does: none of them may carry a
    /// unique key or an id of the caller's choosing (RedisJobStore's refusal, word for word in its opening).
    /// </summary>
    public class ClusterLikeStore : DispatchProxy
    {
        private IJobStore _inner = null!;

        public static IJobStore Create(IJobStore inner)
        {
            var proxy = Create<IJobStore, ClusterLikeStore>();
            ((ClusterLikeStore)(object)proxy)._inner = inner;
            return proxy;
        }

        private static string OwnKeysOf(NewJob job) => job.UniqueKey is not null
            ? $"job {job.Id} carries unique key '{job.UniqueKey}'"
            : $"job {job.Id} has an id of the caller's choosing (over HTTP, one derived from an Idempotency-Key)";

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name is nameof(IJobStore.CreateBatchAsync) or nameof(IJobStore.AddToBatchAsync)
                && args!.OfType<IReadOnlyList<NewJob>>().Single().Where(j => j.UniqueKey is not null || !JobId.IsGenerated(j.Id)).Select(OwnKeysOf).ToList() is { Count: > 0 } refused)
            {
                throw new ArgumentException(
                    $"On a Redis Cluster the jobs of a batch or of a workflow cannot carry a unique key or an id of the caller's choosing (here: {string.Join("; ", refused)}): " +
                    "Let the store choose the ids and leave out unique keys (over HTTP: no Idempotency-Key and no unique_key).",
                    "jobs");
            }

            if (targetMethod.Name is nameof(IJobStore.EnqueueManyAsync)
                && ((IReadOnlyList<NewJob>)args![0]!).FirstOrDefault(j => j.DependsOn.Count > 0 && (j.UniqueKey is not null || !JobId.IsGenerated(j.Id))) is { } continuation)
            {
                throw new ArgumentException($"Job '{continuation.Id}' waits for other jobs or belongs to a batch, so on a Redis Cluster {OwnKeysOf(continuation)}.", "jobs");
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}
