using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// GET /batches and GET /workflows: the tenant's, newest first, a page at a time, filtered by status; tenant-isolated
/// as GET /batches/{id} (an admin key names another tenant, or every tenant, with ?tenant=), and bad parameters are 400s
/// that name them,
/// as GET /jobs answers its own.
/// </summary>
public sealed class ListBatchesApiTests
{
    /// <summary>A plain batch, then a workflow of two steps, of <paramref name="tenant"/>: their ids, oldest first.</summary>
    private static async Task<(string BatchId, string WorkflowId)> SeedAsync(TestApp app, string tenant = "tenant-a")
    {
        var jobs = app.Services.GetRequiredService<IJobClient>();
        var workflows = app.Services.GetRequiredService<IWorkflowClient>();
        var options = new JobOptions { Tenant = tenant, Queue = "nobody" };
        var batch = await workflows.StartBatchAsync([jobs.CreateJob("test:noop", "{}"u8.ToArray(), options)]);
        var started = await workflows.StartWorkflowAsync(new WorkflowBuilder("nightly")
            .Add("extract", jobs.CreateJob("test:noop", "{}"u8.ToArray(), options))
            .Add("load", jobs.CreateJob("test:noop", "{}"u8.ToArray(), options), after: ["extract"]));
        Assert.True(batch.Created && started.Created);
        return (batch.BatchId, started.WorkflowId);
    }

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static IEnumerable<string?> Ids(JsonElement page, string list, string id) =>
        page.GetProperty(list).EnumerateArray().Select(b => b.GetProperty(id).GetString());

    [Fact]
    public async Task ListBatches_ACursorWithCharactersAdded_Is400_NotAnotherPosition()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        await SeedAsync(app);
        var cursor = (await JsonOf(await app.SendAsync(HttpMethod.Get, "/batches?limit=1", TestApp.KeyA))).GetProperty("next_cursor").GetString()!;

        foreach (var altered in new[] { cursor + "x", cursor + "A", cursor + "xx", cursor + "=" })
        {
            using var response = await app.SendAsync(HttpMethod.Get, "/batches?limit=1&cursor=" + Uri.EscapeDataString(altered), TestApp.KeyA);
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "cursor");
        }
    }

    [Fact]
    public async Task ListBatches_TheTenantsNewestFirst_InPages_AndMatchesTheDocument()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var (batchId, workflowId) = await SeedAsync(app);
        await SeedAsync(app, tenant: "tenant-b");

        using var response = await app.SendAsync(HttpMethod.Get, "/batches", TestApp.KeyA);
        await contract.CheckAsync("GET", "/batches", response, HttpStatusCode.OK);
        var all = await JsonOf(response);

        Assert.Equal([workflowId, batchId], Ids(all, "batches", "batch_id"));
        Assert.Equal(JsonValueKind.Null, all.GetProperty("next_cursor").ValueKind);
        var workflow = all.GetProperty("batches")[0];
        Assert.Equal(("RUNNING", 2, true, "nightly"), (workflow.GetProperty("status").GetString(), workflow.GetProperty("total").GetInt32(),
            workflow.GetProperty("is_workflow").GetBoolean(), workflow.GetProperty("workflow_name").GetString()));

        var first = await JsonOf(await app.SendAsync(HttpMethod.Get, "/batches?limit=1", TestApp.KeyA));
        Assert.Equal([workflowId], Ids(first, "batches", "batch_id"));
        var cursor = first.GetProperty("next_cursor").GetString();
        var second = await JsonOf(await app.SendAsync(HttpMethod.Get, $"/batches?limit=1&cursor={cursor}", TestApp.KeyA));
        Assert.Equal([batchId], Ids(second, "batches", "batch_id"));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);
    }

    [Fact]
    public async Task ListWorkflows_OnlyWorkflows_WithNameStepsAndBatch_AndMatchesTheDocument()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var (_, workflowId) = await SeedAsync(app);

        using var response = await app.SendAsync(HttpMethod.Get, "/workflows", TestApp.KeyA);
        await contract.CheckAsync("GET", "/workflows", response, HttpStatusCode.OK);
        var page = await JsonOf(response);

        var workflow = Assert.Single(page.GetProperty("workflows").EnumerateArray());
        Assert.Equal((workflowId, "nightly", "RUNNING", 2), (workflow.GetProperty("workflow_id").GetString(), workflow.GetProperty("name").GetString(),
            workflow.GetProperty("status").GetString(), workflow.GetProperty("steps").GetInt32()));
        Assert.Equal(workflowId, workflow.GetProperty("batch").GetProperty("batch_id").GetString());
    }

    [Fact]
    public async Task ByStatus_OnlyThatStatus()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var (batchId, workflowId) = await SeedAsync(app);
        var workflows = app.Services.GetRequiredService<IWorkflowClient>();
        Assert.True(await workflows.CancelBatchAsync(workflowId, "tenant-a"));

        Assert.Equal([batchId], Ids(await JsonOf(await app.SendAsync(HttpMethod.Get, "/batches?status=RUNNING", TestApp.KeyA)), "batches", "batch_id"));
        Assert.Equal([workflowId], Ids(await JsonOf(await app.SendAsync(HttpMethod.Get, "/batches?status=CANCELLED", TestApp.KeyA)), "batches", "batch_id"));
        Assert.Equal([workflowId], Ids(await JsonOf(await app.SendAsync(HttpMethod.Get, "/workflows?status=CANCELLED", TestApp.KeyA)), "workflows", "workflow_id"));
        Assert.Empty(Ids(await JsonOf(await app.SendAsync(HttpMethod.Get, "/workflows?status=RUNNING", TestApp.KeyA)), "workflows", "workflow_id"));
        Assert.Empty(Ids(await JsonOf(await app.SendAsync(HttpMethod.Get, "/batches?status=SUCCESS", TestApp.KeyA)), "batches", "batch_id"));
    }

    [Theory]
    [InlineData("/batches")]
    [InlineData("/workflows")]
    public async Task AnotherTenantOrEveryTenant_OnlyForAnAdminKey(string path)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var (_, workflowOfA) = await SeedAsync(app);
        var (_, workflowOfB) = await SeedAsync(app, tenant: "tenant-b");
        var (list, id) = path == "/batches" ? ("batches", "batch_id") : ("workflows", "workflow_id");

        Assert.DoesNotContain(workflowOfB, Ids(await JsonOf(await app.SendAsync(HttpMethod.Get, path, TestApp.KeyA)), list, id));
        Assert.Contains(workflowOfB, Ids(await JsonOf(await app.SendAsync(HttpMethod.Get, path, TestApp.KeyB)), list, id));
        Assert.Contains(workflowOfA, Ids(await JsonOf(await app.SendAsync(HttpMethod.Get, path + "?tenant=tenant-a", TestApp.KeyA)), list, id));
        var asAdmin = await JsonOf(await app.SendAsync(HttpMethod.Get, path + "?tenant=tenant-b", TestApp.AdminKey));
        Assert.Contains(workflowOfB, Ids(asAdmin, list, id));
        Assert.DoesNotContain(workflowOfA, Ids(asAdmin, list, id));

        await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Get, path + "?tenant=tenant-b", TestApp.KeyA), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Get, path + "?tenant=*", TestApp.KeyA), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Get, path + "?tenant=*", TestApp.KeyB), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Get, path, null), HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("/batches")]
    [InlineData("/workflows")]
    public async Task EveryTenant_ForAnAdminKey_NewestFirstWithTheirTenants_InPages_AndMatchesTheDocument(string path)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var (batchOfA, workflowOfA) = await SeedAsync(app);
        var (batchOfB, workflowOfB) = await SeedAsync(app, tenant: "tenant-b");
        var (list, id) = path == "/batches" ? ("batches", "batch_id") : ("workflows", "workflow_id");

        using var response = await app.SendAsync(HttpMethod.Get, path + "?tenant=*", TestApp.AdminKey);
        await contract.CheckAsync("GET", path, response, HttpStatusCode.OK);
        var every = await JsonOf(response);

        var listed = every.GetProperty(list).EnumerateArray().Select(b => path == "/batches" ? b : b.GetProperty("batch"))
            .Select(static b => (Id: b.GetProperty("batch_id").GetString()!, Tenant: b.GetProperty("tenant").GetString(), CreatedAt: b.GetProperty("created_at").GetDateTimeOffset()))
            .ToList();
        var seeded = path == "/batches" ? new[] { batchOfA, workflowOfA, batchOfB, workflowOfB } : [workflowOfA, workflowOfB];
        Assert.Equal(seeded.Order(StringComparer.Ordinal), listed.Select(static b => b.Id).Order(StringComparer.Ordinal));
        Assert.Equal(listed.Select(static b => b.CreatedAt).OrderDescending(), listed.Select(static b => b.CreatedAt));
        Assert.Equal(["tenant-a", "tenant-b"], listed.Select(static b => b.Tenant).Distinct().Order());

        var first = await JsonOf(await app.SendAsync(HttpMethod.Get, path + "?tenant=*&limit=1", TestApp.AdminKey));
        var second = await JsonOf(await app.SendAsync(HttpMethod.Get, $"{path}?tenant=*&limit=1&cursor={first.GetProperty("next_cursor").GetString()}", TestApp.AdminKey));
        Assert.Equal(listed.Select(static b => b.Id).Take(2), [.. Ids(first, list, id), .. Ids(second, list, id)]);
        var running = await JsonOf(await app.SendAsync(HttpMethod.Get, path + "?tenant=*&status=SUCCESS", TestApp.AdminKey));
        Assert.Empty(Ids(running, list, id));
    }

    [Fact]
    public async Task ACursorOfOneListing_GivenToAnother_Is400_NamingIt()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        await SeedAsync(app);
        await SeedAsync(app);
        var batchCursor = (await JsonOf(await app.SendAsync(HttpMethod.Get, "/batches?limit=1", TestApp.KeyA))).GetProperty("next_cursor").GetString();
        var jobCursor = (await JsonOf(await app.SendAsync(HttpMethod.Get, "/jobs?limit=1", TestApp.KeyA))).GetProperty("next_cursor").GetString();
        Assert.NotNull(batchCursor);
        Assert.NotNull(jobCursor);

        using var jobsWithBatchCursor = await app.SendAsync(HttpMethod.Get, $"/jobs?cursor={batchCursor}", TestApp.KeyA);
        using var bulkWithBatchCursor = await app.PostAsync("/jobs/bulk", $$"""{"action": "retry", "filter": {}, "cursor": "{{batchCursor}}"}""", TestApp.KeyA);
        using var batchesWithJobCursor = await app.SendAsync(HttpMethod.Get, $"/batches?cursor={jobCursor}", TestApp.KeyA);

        await ProblemAssert.IsProblemAsync(jobsWithBatchCursor, HttpStatusCode.BadRequest, "cursor");
        await ProblemAssert.IsProblemAsync(bulkWithBatchCursor, HttpStatusCode.BadRequest, "cursor");
        await ProblemAssert.IsProblemAsync(batchesWithJobCursor, HttpStatusCode.BadRequest, "cursor");
    }

    [Theory]
    [InlineData("/batches?limit=0", "limit")]
    [InlineData("/batches?limit=201", "limit")]
    [InlineData("/batches?limit=ten", "limit")]
    [InlineData("/batches?limit=+5", "limit")]
    [InlineData("/batches?limit=1&limit=2", "limit")]
    [InlineData("/batches?cursor=nope", "cursor")]
    [InlineData("/batches?cursor=", "cursor")]
    [InlineData("/batches?status=running", "status")]
    [InlineData("/batches?status=FAILED", "status")]
    [InlineData("/batches?status=", "status")]
    [InlineData("/batches?tenant=bad%20tenant", "tenant")]
    [InlineData("/batches?batch_id=batch_00000000000000000000000000000000", "batch_id")]
    [InlineData("/workflows?colour=red", "colour")]
    [InlineData("/workflows?limit=-1", "limit")]
    [InlineData("/workflows?status=SUCCEEDED", "status")]
    public async Task BadParameter_Is400_NamingIt(string path, string field)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var response = await app.SendAsync(HttpMethod.Get, path, TestApp.AdminKey);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task AJobListingsCursor_IsNotABatchCursor()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        await app.CreateAsync(key: TestApp.KeyA, extra: """, "queue": "nobody" """);
        await app.CreateAsync(key: TestApp.KeyA, extra: """, "queue": "nobody" """);
        var jobs = await JsonOf(await app.SendAsync(HttpMethod.Get, "/jobs?limit=1", TestApp.KeyA));
        var jobCursor = jobs.GetProperty("next_cursor").GetString();
        Assert.NotNull(jobCursor);

        using var response = await app.SendAsync(HttpMethod.Get, $"/batches?cursor={jobCursor}", TestApp.KeyA);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "cursor");
    }
}
