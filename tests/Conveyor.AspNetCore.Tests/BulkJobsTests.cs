using System.Net;
using System.Text.Json;

namespace Conveyor.AspNetCore.Tests;

/// <summary>POST /jobs/bulk: listed ids in one call, or a filter's matches in bounded batches that a caller loops on.</summary>
public sealed class BulkJobsTests
{
    private static async Task<JsonElement> PostBulkAsync(TestApp app, string json, string? key = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs/bulk") { Content = TestApp.Json(json) };
        if (key is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await app.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>Jobs that wait an hour (SCHEDULED) in the tenant of the key, created through the API; ids newest last.</summary>
    private static async Task<List<string>> ScheduledAsync(TestApp app, int count, string? key = null, string queue = "default")
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await app.CreateAsync(key: key, extra: $$""", "process_in_seconds": 3600, "queue": "{{queue}}" """));
        }

        return ids;
    }

    [Fact]
    public async Task Ids_AppliesToEveryAllowedJob_CountsTheSkipped_AndLeavesUnknownIdsOut()
    {
        await using var app = await TestApp.StartAsync();
        var scheduled = await ScheduledAsync(app, 3);
        var queued = await app.CreateAsync(extra: """, "queue": "nobody" """);
        await PostBulkAsync(app, $$"""{"action": "cancel", "ids": ["{{scheduled[0]}}"]}""");

        var result = await PostBulkAsync(app, $$"""{"action": "retry", "ids": ["{{scheduled[0]}}", "{{scheduled[1]}}", "{{queued}}", "job_00000000000000000000000000000000"]}""");

        Assert.Equal(3, result.GetProperty("matched").GetInt32());
        Assert.Equal(2, result.GetProperty("applied").GetInt32());
        Assert.Equal(1, result.GetProperty("skipped").GetInt32());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("next_cursor").ValueKind);
        Assert.Equal("QUEUED", (await app.GetJobAsync(scheduled[0])).GetProperty("status").GetString());
        Assert.Equal("QUEUED", (await app.GetJobAsync(scheduled[1])).GetProperty("status").GetString());
        Assert.Equal("SCHEDULED", (await app.GetJobAsync(scheduled[2])).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("cancel")]
    [InlineData("retry")]
    [InlineData("delete")]
    public async Task Ids_AnIdListedTwice_IsOneJob_CountedOnce_ForEveryAction(string action)
    {
        await using var app = await TestApp.StartAsync();
        var job = (await ScheduledAsync(app, 1))[0];
        if (action == "retry")
        {
            await PostBulkAsync(app, $$"""{"action": "cancel", "ids": ["{{job}}"]}""");
        }

        var result = await PostBulkAsync(app, $$"""{"action": "{{action}}", "ids": ["{{job}}", "{{job}}", "{{job}}"]}""");

        Assert.Equal((1, 1, 0), (result.GetProperty("matched").GetInt32(), result.GetProperty("applied").GetInt32(), result.GetProperty("skipped").GetInt32()));
    }

    [Fact]
    public async Task Filter_LoopingOnTheCursor_HandlesEveryMatchInBatchesOfTheLimit()
    {
        await using var app = await TestApp.StartAsync();
        var inA = await ScheduledAsync(app, 7, queue: "a");
        var inB = await ScheduledAsync(app, 2, queue: "b");

        var batches = new List<JsonElement>();
        string cursor = "null";
        do
        {
            var batch = await PostBulkAsync(app, $$"""{"action": "delete", "filter": {"queue": "a", "status": "SCHEDULED"}, "cursor": {{cursor}}, "limit": 3}""");
            batches.Add(batch);
            cursor = batch.GetProperty("next_cursor").ValueKind == JsonValueKind.Null ? "" : $"\"{batch.GetProperty("next_cursor").GetString()}\"";
            Assert.True(batches.Count < 10, "the cursor never ended");
        }
        while (cursor.Length > 0);

        Assert.Equal([3, 3, 1], batches.Select(b => b.GetProperty("applied").GetInt32()));
        Assert.All(batches, b => Assert.Equal(0, b.GetProperty("skipped").GetInt32()));
        var left = await app.StoredJobsAsync();
        Assert.Equal(inB.Order(), left.Select(j => j.Id).Order());
        Assert.DoesNotContain(left, j => inA.Contains(j.Id));
    }

    [Fact]
    public async Task Filter_JobsInAStateThatDoesNotAllowTheAction_AreSkippedNotErrors()
    {
        await using var app = await TestApp.StartAsync();
        await ScheduledAsync(app, 2);
        await app.CreateAsync(extra: """, "queue": "nobody" """);

        var result = await PostBulkAsync(app, """{"action": "retry", "filter": {}}""");

        Assert.Equal(3, result.GetProperty("matched").GetInt32());
        Assert.Equal(2, result.GetProperty("applied").GetInt32());
        Assert.Equal(1, result.GetProperty("skipped").GetInt32());
    }

    [Fact]
    public async Task Tenants_ATenantKeyActsOnItsOwnJobsOnly_AnAdminKeyOnAnyWithTenantStar()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var mine = await ScheduledAsync(app, 1, TestApp.KeyA);
        var theirs = await ScheduledAsync(app, 1, TestApp.KeyB);

        var scoped = await PostBulkAsync(app, $$"""{"action": "cancel", "ids": ["{{mine[0]}}", "{{theirs[0]}}"]}""", TestApp.KeyA);
        Assert.Equal(1, scoped.GetProperty("applied").GetInt32());
        Assert.Equal("SCHEDULED", (await app.GetJobAsync(theirs[0], TestApp.KeyB)).GetProperty("status").GetString());

        var filtered = await PostBulkAsync(app, """{"action": "cancel", "filter": {"status": "SCHEDULED"}}""", TestApp.KeyA);
        Assert.Equal(0, filtered.GetProperty("matched").GetInt32());

        await PostBulkAsync(app, """{"action": "cancel", "filter": {"tenant": "tenant-b"}}""", TestApp.KeyA, HttpStatusCode.Forbidden);
        await PostBulkAsync(app, $$"""{"action": "cancel", "ids": ["{{theirs[0]}}"], "tenant": "*"}""", TestApp.KeyA, HttpStatusCode.Forbidden);

        var admin = await PostBulkAsync(app, """{"action": "delete", "filter": {"tenant": "*", "status": "CANCELLED"}}""", TestApp.AdminKey);
        Assert.Equal(1, admin.GetProperty("applied").GetInt32());
        var adminIds = await PostBulkAsync(app, $$"""{"action": "cancel", "ids": ["{{theirs[0]}}"], "tenant": "tenant-b"}""", TestApp.AdminKey);
        Assert.Equal(1, adminIds.GetProperty("applied").GetInt32());
        Assert.Equal("CANCELLED", (await app.GetJobAsync(theirs[0], TestApp.KeyB)).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("""[]""", "body")]
    [InlineData("""{"ids": ["job_1"]}""", "action")]
    [InlineData("""{"action": "purge", "ids": ["job_1"]}""", "action")]
    [InlineData("""{"action": "retry"}""", "ids")]
    [InlineData("""{"action": "retry", "ids": ["job_1"], "filter": {}}""", "filter")]
    [InlineData("""{"action": "retry", "ids": []}""", "ids")]
    [InlineData("""{"action": "retry", "ids": ["ok", "bad id"]}""", "ids[1]")]
    [InlineData("""{"action": "retry", "ids": ["job_1"], "limit": 5}""", "limit")]
    [InlineData("""{"action": "retry", "filter": {"colour": "red"}}""", "filter.colour")]
    [InlineData("""{"action": "retry", "filter": {"status": "BROKEN"}}""", "filter.status")]
    [InlineData("""{"action": "retry", "filter": {"status": "scheduled"}}""", "filter.status")]
    [InlineData("""{"action": "retry", "filter": {"created_after": "yesterday"}}""", "filter.created_after")]
    [InlineData("""{"action": "retry", "filter": {"created_after": "2026-02-01T00:00:00Z", "created_before": "2026-01-01T00:00:00Z"}}""", "filter.created_before")]
    [InlineData("""{"action": "retry", "filter": {"error": ""}}""", "filter.error")]
    [InlineData("""{"action": "retry", "filter": {"queue": 5}}""", "filter.queue")]
    [InlineData("""{"action": "retry", "filter": {}, "limit": 1001}""", "limit")]
    [InlineData("""{"action": "retry", "filter": {}, "cursor": "not-a-cursor"}""", "cursor")]
    [InlineData("""{"action": "retry", "filter": {}, "tenant": "x"}""", "tenant")]
    [InlineData("""{"action": "retry", "filter": {}, "extra": 1}""", "extra")]
    [InlineData("""{"action": "\udcff", "ids": ["job_1"]}""", "action")]
    [InlineData("""{"action": "retry", "ids": ["job_1", "\udcff"]}""", "ids[1]")]
    [InlineData("""{"action": "retry", "filter": {"queue": "\udcff"}}""", "filter.queue")]
    public async Task BadInput_Is400NamingTheField_AndNothingChanges(string body, string field)
    {
        await using var app = await TestApp.StartAsync();
        var job = (await ScheduledAsync(app, 1))[0];
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs/bulk") { Content = TestApp.Json(body) };

        using var response = await app.Client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal("SCHEDULED", (await app.GetJobAsync(job)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task TooManyIds_Is400()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxRequestBytes"] = "1000000" });
        var ids = string.Join(", ", Enumerable.Range(0, 1001).Select(i => $"\"job-{i}\""));

        await PostBulkAsync(app, $$"""{"action": "delete", "ids": [{{ids}}]}""", expected: HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task FailedJobs_RetriedByErrorFilter_RunAgain()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var failed = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            failed.Add(await app.CreateAsync("test:fail"));
        }

        foreach (var id in failed)
        {
            await app.WaitForStatusAsync(id, null, "FAILED");
        }

        var result = await PostBulkAsync(app, """{"action": "retry", "filter": {"status": "FAILED", "error": "ALWAYS FAILS"}}""");

        Assert.Equal(4, result.GetProperty("applied").GetInt32());
        foreach (var id in failed)
        {
            var job = await app.WaitForStatusAsync(id, null, "FAILED");
            Assert.Equal(2, job.GetProperty("attempts").GetInt32());
        }
    }
}
