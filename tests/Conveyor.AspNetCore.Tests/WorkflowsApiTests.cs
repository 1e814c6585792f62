using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// GET /batches/{id}, POST /batches/{id}/cancel and GET /workflows/{id}: tenant-isolated like the job endpoints (an admin
/// key names another tenant with ?tenant=), bad ids and parameters are 400s, unknown and other tenants' ids 404s, and
/// every answer matches the OpenAPI document.
/// </summary>
public sealed class WorkflowsApiTests
{
    private const string Batch = "/batches/{batchId}";
    private const string CancelBatch = "/batches/{batchId}/cancel";
    private const string Workflow = "/workflows/{workflowId}";
    private const string Unknown = "batch_00000000000000000000000000000000";

    private static async Task<(string BatchId, string WorkflowId, IReadOnlyDictionary<string, string> Steps)> SeedAsync(TestApp app, string tenant = "tenant-a")
    {
        var jobs = app.Services.GetRequiredService<IJobClient>();
        var workflows = app.Services.GetRequiredService<IWorkflowClient>();
        var options = new JobOptions { Tenant = tenant, Queue = "nobody" };
        var batch = await workflows.StartBatchAsync([jobs.CreateJob("test:noop", "{}"u8.ToArray(), options), jobs.CreateJob("test:noop", "{}"u8.ToArray(), options)]);
        var workflow = new WorkflowBuilder("nightly")
            .Add("extract", jobs.CreateJob("test:noop", "{}"u8.ToArray(), options))
            .Add("left", jobs.CreateJob("test:noop", "{}"u8.ToArray(), options), after: ["extract"])
            .Add("right", jobs.CreateJob("test:noop", "{}"u8.ToArray(), options), after: ["extract"])
            .Add("join", jobs.CreateJob("test:noop", "{}"u8.ToArray(), options), after: ["left", "right"]);
        var started = await workflows.StartWorkflowAsync(workflow);
        Assert.True(batch.Created && started.Created);
        return (batch.BatchId, started.WorkflowId, started.StepJobIds);
    }

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task GetBatch_ShowsStatusCountsAndProgress_AndMatchesTheDocument()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var (batchId, workflowId, _) = await SeedAsync(app);

        using var response = await app.SendAsync(HttpMethod.Get, $"/batches/{batchId}", TestApp.KeyA);
        await contract.CheckAsync("GET", Batch, response, HttpStatusCode.OK);
        var batch = await JsonOf(response);

        Assert.Equal(batchId, batch.GetProperty("batch_id").GetString());
        Assert.Equal("RUNNING", batch.GetProperty("status").GetString());
        Assert.Equal((2, 2, 0), (batch.GetProperty("total").GetInt32(), batch.GetProperty("unfinished").GetInt32(), batch.GetProperty("progress").GetInt32()));
        Assert.False(batch.GetProperty("is_workflow").GetBoolean());
        var ofWorkflow = await JsonOf(await app.SendAsync(HttpMethod.Get, $"/batches/{workflowId}", TestApp.KeyA));
        Assert.Equal(("nightly", true), (ofWorkflow.GetProperty("workflow_name").GetString(), ofWorkflow.GetProperty("is_workflow").GetBoolean()));
    }

    [Fact]
    public async Task GetWorkflow_ShowsEachStepsNameJobStatusAndDependencies_AndMatchesTheDocument()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var (_, workflowId, steps) = await SeedAsync(app);

        using var response = await app.SendAsync(HttpMethod.Get, $"/workflows/{workflowId}", TestApp.KeyA);
        await contract.CheckAsync("GET", Workflow, response, HttpStatusCode.OK);
        var workflow = await JsonOf(response);

        Assert.Equal(("nightly", "RUNNING", 4), (workflow.GetProperty("name").GetString(), workflow.GetProperty("status").GetString(), workflow.GetProperty("batch").GetProperty("total").GetInt32()));
        var byName = workflow.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(["extract", "left", "right", "join"], workflow.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(steps["join"], byName["join"].GetProperty("job_id").GetString());
        Assert.Equal("QUEUED", byName["extract"].GetProperty("status").GetString());
        Assert.Equal("WAITING", byName["join"].GetProperty("status").GetString());
        Assert.Equal(["left", "right"], byName["join"].GetProperty("after").EnumerateArray().Select(a => a.GetString()));
        var job = await app.GetJobAsync(steps["join"], TestApp.KeyA);
        Assert.Equal(workflowId, job.GetProperty("batch_id").GetString());
        Assert.Equal([steps["left"], steps["right"]], job.GetProperty("depends_on").EnumerateArray().Select(a => a.GetString()));
    }

    [Fact]
    public async Task CancelBatch_CancelsItsJobs_ThenASecondCancelIs409_AndMatchesTheDocument()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var (_, workflowId, steps) = await SeedAsync(app);

        using var response = await app.SendAsync(HttpMethod.Post, $"/batches/{workflowId}/cancel", TestApp.KeyA);
        await contract.CheckAsync("POST", CancelBatch, response, HttpStatusCode.OK);
        Assert.Equal("CANCELLED", (await JsonOf(response)).GetProperty("status").GetString());
        Assert.Equal("CANCELLED", (await app.GetJobAsync(steps["join"], TestApp.KeyA)).GetProperty("status").GetString());
        var extract = await app.GetJobAsync(steps["extract"], TestApp.KeyA);
        Assert.Equal($"Cancelled: its batch '{workflowId}' was cancelled.", Assert.Single(extract.GetProperty("errors").EnumerateArray()).GetProperty("message").GetString());

        using var again = await app.SendAsync(HttpMethod.Post, $"/batches/{workflowId}/cancel", TestApp.KeyA);
        await contract.CheckAsync("POST", CancelBatch, again, HttpStatusCode.Conflict);
        await ProblemAssert.IsProblemAsync(again, HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("GET", "/batches/{0}", Batch)]
    [InlineData("POST", "/batches/{0}/cancel", CancelBatch)]
    [InlineData("GET", "/workflows/{0}", Workflow)]
    public async Task AnotherTenantsOrAnUnknownId_Is404_AnAdminKeyNamingTheTenantReachesIt(string method, string path, string template)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var (_, workflowId, steps) = await SeedAsync(app, tenant: "tenant-b");

        using var ofOther = await app.SendAsync(new HttpMethod(method), string.Format(path, workflowId), TestApp.KeyA);
        await contract.CheckAsync(method, template, ofOther, HttpStatusCode.NotFound);
        using var unknown = await app.SendAsync(new HttpMethod(method), string.Format(path, Unknown), TestApp.KeyB);
        await contract.CheckAsync(method, template, unknown, HttpStatusCode.NotFound);
        using var forbidden = await app.SendAsync(new HttpMethod(method), string.Format(path, workflowId) + "?tenant=tenant-b", TestApp.KeyA);
        await contract.CheckAsync(method, template, forbidden, HttpStatusCode.Forbidden);
        Assert.Equal("QUEUED", (await app.GetJobAsync(steps["extract"], TestApp.KeyB)).GetProperty("status").GetString());

        using var admin = await app.SendAsync(new HttpMethod(method), string.Format(path, workflowId) + "?tenant=tenant-b", TestApp.AdminKey);
        await contract.CheckAsync(method, template, admin, HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("/batches/job_123", "batch_id")]
    [InlineData("/batches/batch_0000000000000000000000000000000G", "batch_id")]
    [InlineData("/workflows/nope", "workflow_id")]
    [InlineData("/batches/batch_00000000000000000000000000000000?tenant=*", "tenant")]
    [InlineData("/workflows/batch_00000000000000000000000000000000?colour=red", "colour")]
    [InlineData("/batches/batch_00000000000000000000000000000000/cancel?tenant=a&tenant=b", "tenant")]
    public async Task BadIdOrParameter_Is400NamingIt(string path, string field)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var method = path.Contains("/cancel", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get;
        var template = path.StartsWith("/workflows", StringComparison.Ordinal) ? Workflow : path.Contains("/cancel", StringComparison.Ordinal) ? CancelBatch : Batch;

        using var response = await app.SendAsync(method, path, TestApp.AdminKey);

        await contract.CheckAsync(method.Method, template, response, HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task WithoutAKey_Is401()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var (batchId, _, _) = await SeedAsync(app);

        using var response = await app.SendAsync(HttpMethod.Get, $"/batches/{batchId}");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }
}
