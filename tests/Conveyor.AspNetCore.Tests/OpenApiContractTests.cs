using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// The OpenAPI document describes the whole API, and every endpoint's real answers (successes and errors) match it:
/// a generated client built from /openapi/v1.json can create, read, list and manage jobs.
/// </summary>
public sealed class OpenApiContractTests
{
    private const string Jobs = "/jobs";
    private const string Job = "/jobs/{jobId}";
    private const string Cancel = "/jobs/{jobId}/cancel";
    private const string Retry = "/jobs/{jobId}/retry";
    private const string Queues = "/queues";
    private const string Pause = "/queues/{name}/pause";
    private const string Resume = "/queues/{name}/resume";
    private const string Unknown = "job_00000000000000000000000000000000";
    private const string Bulk = "/jobs/bulk";
    private const string Throughput = "/stats/throughput";
    private const string Schedules = "/schedules";
    private const string Schedule = "/schedules/{name}";
    private const string PauseSchedule = "/schedules/{name}/pause";
    private const string ResumeSchedule = "/schedules/{name}/resume";
    private const string TriggerSchedule = "/schedules/{name}/trigger";

    [Fact]
    public async Task EveryOperation_AnswersAsTheDocumentSays_InSuccessAndError()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxRequestBytes"] = "4096" }, withWorkers: true, withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var a = TestApp.KeyA;

        // POST /jobs
        using (var created = await Send(app, HttpMethod.Post, Jobs, a, """{"type": "test:noop", "payload": {"n": 1}}""", idempotencyKey: "k-1"))
        {
            await contract.CheckAsync("POST", Jobs, created, HttpStatusCode.Accepted);
        }

        await contract.CheckAsync("POST", Jobs, await Send(app, HttpMethod.Post, Jobs, a, """{"type": "test:noop", "payload": {"n": 1}}""", idempotencyKey: "k-1"), HttpStatusCode.Accepted);
        await contract.CheckAsync("POST", Jobs, await Send(app, HttpMethod.Post, Jobs, a, """{"type": "test:noop", "queue": "nobody"}"""), HttpStatusCode.Accepted);
        await contract.CheckAsync("POST", Jobs, await Send(app, HttpMethod.Post, Jobs, a, """{"type": "test:noop", "max_retry": -1}"""), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", Jobs, await Send(app, HttpMethod.Post, Jobs, a, """{"type": "test:note", "payload": {"noteId": 1}}"""), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", Jobs, await Send(app, HttpMethod.Post, Jobs, null, """{"type": "test:noop"}"""), HttpStatusCode.Unauthorized);
        await contract.CheckAsync("POST", Jobs, await Send(app, HttpMethod.Post, Jobs, a, """{"type": "test:noop", "payload": {"n": 2}}""", idempotencyKey: "k-1"), HttpStatusCode.Conflict);
        await contract.CheckAsync("POST", Jobs, await Send(app, HttpMethod.Post, Jobs, a, $$"""{"type": "test:noop", "payload": "{{new string('x', 5000)}}"}"""), HttpStatusCode.RequestEntityTooLarge);
        await contract.CheckAsync("POST", Jobs, await Send(app, HttpMethod.Post, Jobs, a, "type=test:noop", contentType: "text/plain"), HttpStatusCode.UnsupportedMediaType);

        // A finished job without a result, a queued one, a running one.
        var done = await app.CreateAsync(key: a);
        await app.WaitForStatusAsync(done, a, "SUCCESS");
        var queued = await app.CreateAsync(key: a, extra: """, "queue": "nobody" """);
        var running = await app.CreateAsync("test:wait", key: a);
        await app.WaitForStatusAsync(running, a, "RUNNING");

        // GET /jobs/{id}, GET /jobs
        await contract.CheckAsync("GET", Job, await Send(app, HttpMethod.Get, "/jobs/" + done, a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Job, await Send(app, HttpMethod.Get, "/jobs/" + queued, a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Job, await Send(app, HttpMethod.Get, "/jobs/" + running, a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Job, await Send(app, HttpMethod.Get, "/jobs/" + Unknown, a), HttpStatusCode.NotFound);
        await contract.CheckAsync("GET", Job, await Send(app, HttpMethod.Get, "/jobs/bad%20id", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", Job, await Send(app, HttpMethod.Get, "/jobs/" + done, null), HttpStatusCode.Unauthorized);
        await contract.CheckAsync("GET", Jobs, await Send(app, HttpMethod.Get, "/jobs?status=SUCCESS&limit=1", a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Jobs, await Send(app, HttpMethod.Get, "/jobs?queue=nobody&type=test:noop", a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Jobs, await Send(app, HttpMethod.Get, "/jobs?colour=red", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", Jobs, await Send(app, HttpMethod.Get, "/jobs?status=FAILED&error=timeout&created_after=2020-01-01T00:00:00Z&created_before=2099-01-01T00:00:00Z", a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Jobs, await Send(app, HttpMethod.Get, "/jobs?tenant=*", TestApp.AdminKey), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Jobs, await Send(app, HttpMethod.Get, "/jobs?tenant=tenant-b", a), HttpStatusCode.Forbidden);
        await contract.CheckAsync("GET", Jobs, await Send(app, HttpMethod.Get, "/jobs?created_after=yesterday", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", Job, await Send(app, HttpMethod.Get, $"/jobs/{done}?tenant=tenant-a", TestApp.AdminKey), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Job, await Send(app, HttpMethod.Get, $"/jobs/{done}?tenant=tenant-a", TestApp.KeyB), HttpStatusCode.Forbidden);

        // bulk, throughput
        await contract.CheckAsync("POST", Bulk, await Send(app, HttpMethod.Post, Bulk, a, $$"""{"action": "retry", "ids": ["{{done}}", "{{Unknown}}"]}"""), HttpStatusCode.OK);
        using (var batch = await Send(app, HttpMethod.Post, Bulk, TestApp.AdminKey, """{"action": "cancel", "filter": {"status": "SCHEDULED", "queue": null, "tenant": "*"}, "cursor": null, "limit": 1}"""))
        {
            await contract.CheckAsync("POST", Bulk, batch, HttpStatusCode.OK);
        }

        await contract.CheckAsync("POST", Bulk, await Send(app, HttpMethod.Post, Bulk, a, """{"action": "explode", "ids": ["x"]}"""), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", Bulk, await Send(app, HttpMethod.Post, Bulk, a, """{"action": "delete", "filter": {"tenant": "*"}}"""), HttpStatusCode.Forbidden);
        await contract.CheckAsync("POST", Bulk, await Send(app, HttpMethod.Post, Bulk, a, "action=retry", contentType: "text/plain"), HttpStatusCode.UnsupportedMediaType);
        await contract.CheckAsync("POST", Bulk, await Send(app, HttpMethod.Post, Bulk, a, $$"""{"action": "retry", "ids": ["{{new string('x', 5000)}}"]}"""), HttpStatusCode.RequestEntityTooLarge);
        await contract.CheckAsync("GET", Throughput, await Send(app, HttpMethod.Get, "/stats/throughput?minutes=2", TestApp.AdminKey), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Throughput, await Send(app, HttpMethod.Get, "/stats/throughput?minutes=61", TestApp.AdminKey), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", Throughput, await Send(app, HttpMethod.Get, "/stats/throughput?minutes=5%00", TestApp.AdminKey), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", Throughput, await Send(app, HttpMethod.Get, "/stats/throughput", a), HttpStatusCode.Forbidden);

        // cancel, retry, delete
        await contract.CheckAsync("POST", Cancel, await Send(app, HttpMethod.Post, $"/jobs/{running}/cancel", a), HttpStatusCode.Accepted);
        await contract.CheckAsync("POST", Retry, await Send(app, HttpMethod.Post, $"/jobs/{queued}/retry", a), HttpStatusCode.Conflict);
        await contract.CheckAsync("POST", Cancel, await Send(app, HttpMethod.Post, $"/jobs/{queued}/cancel", a), HttpStatusCode.OK);
        await contract.CheckAsync("POST", Cancel, await Send(app, HttpMethod.Post, $"/jobs/{done}/cancel", a), HttpStatusCode.Conflict);
        await contract.CheckAsync("POST", Cancel, await Send(app, HttpMethod.Post, $"/jobs/{Unknown}/cancel", a), HttpStatusCode.NotFound);
        await contract.CheckAsync("POST", Cancel, await Send(app, HttpMethod.Post, "/jobs/bad%20id/cancel", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", Retry, await Send(app, HttpMethod.Post, $"/jobs/{queued}/retry", a), HttpStatusCode.Accepted);
        await contract.CheckAsync("POST", Retry, await Send(app, HttpMethod.Post, $"/jobs/{Unknown}/retry", a), HttpStatusCode.NotFound);
        await contract.CheckAsync("POST", Retry, await Send(app, HttpMethod.Post, "/jobs/bad%20id/retry", a), HttpStatusCode.BadRequest);
        // a job's durable steps
        const string Steps = "/jobs/{jobId}/steps";
        await contract.CheckAsync("GET", Steps, await Send(app, HttpMethod.Get, $"/jobs/{queued}/steps", a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Steps, await Send(app, HttpMethod.Get, $"/jobs/{Unknown}/steps", a), HttpStatusCode.NotFound);
        await contract.CheckAsync("GET", Steps, await Send(app, HttpMethod.Get, "/jobs/bad%20id/steps", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", Steps, await Send(app, HttpMethod.Get, $"/jobs/{queued}/steps?tenant=tenant-b", a), HttpStatusCode.Forbidden);

        // signals
        const string Signal = "/jobs/{jobId}/signals/{name}";
        await contract.CheckAsync("POST", Signal, await Send(app, HttpMethod.Post, $"/jobs/{queued}/signals/approved", a, """{"by": "ada"}"""), HttpStatusCode.Accepted);
        await contract.CheckAsync("POST", Signal, await Send(app, HttpMethod.Post, $"/jobs/{queued}/signals/approved", a, "true"), HttpStatusCode.Conflict);
        await contract.CheckAsync("POST", Signal, await Send(app, HttpMethod.Post, $"/jobs/{Unknown}/signals/approved", a, "true"), HttpStatusCode.NotFound);
        await contract.CheckAsync("POST", Signal, await Send(app, HttpMethod.Post, $"/jobs/{queued}/signals/bad%20name", a, "true"), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", Signal, await Send(app, HttpMethod.Post, $"/jobs/{queued}/signals/other", a, "{not json"), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", Signal, await Send(app, HttpMethod.Post, $"/jobs/{queued}/signals/other?tenant=tenant-b", a, "true"), HttpStatusCode.Forbidden);
        await contract.CheckAsync("POST", Signal, await Send(app, HttpMethod.Post, $"/jobs/{queued}/signals/other", a, "x", contentType: "text/plain"), HttpStatusCode.UnsupportedMediaType);
        await contract.CheckAsync("POST", Signal, await Send(app, HttpMethod.Post, $"/jobs/{queued}/signals/other", a, $"\"{new string('x', 5000)}\""), HttpStatusCode.RequestEntityTooLarge);

        // The steps of a job that waited: a step, a wait's deadline, then a signal whose payload is null.
        var waited = await app.CreateAsync("test:steps", key: a);
        await app.WaitForStatusAsync(waited, a, "SCHEDULED");
        await contract.CheckAsync("GET", Steps, await Send(app, HttpMethod.Get, $"/jobs/{waited}/steps", a), HttpStatusCode.OK);
        await contract.CheckAsync("POST", Signal, await Send(app, HttpMethod.Post, $"/jobs/{waited}/signals/approved", a, "null"), HttpStatusCode.Accepted);
        await app.WaitForStatusAsync(waited, a, "SUCCESS");
        await contract.CheckAsync("GET", Steps, await Send(app, HttpMethod.Get, $"/jobs/{waited}/steps", a), HttpStatusCode.OK);
        var stillRunning = await app.CreateAsync("test:wait", key: TestApp.KeyB);
        await app.WaitForStatusAsync(stillRunning, TestApp.KeyB, "RUNNING");
        await contract.CheckAsync("DELETE", Job, await Send(app, HttpMethod.Delete, "/jobs/" + stillRunning, TestApp.KeyB), HttpStatusCode.Conflict);
        await contract.CheckAsync("DELETE", Job, await Send(app, HttpMethod.Delete, "/jobs/" + done, a), HttpStatusCode.NoContent);
        await contract.CheckAsync("DELETE", Job, await Send(app, HttpMethod.Delete, "/jobs/" + done, a), HttpStatusCode.NotFound);
        await contract.CheckAsync("DELETE", Job, await Send(app, HttpMethod.Delete, "/jobs/bad%20id", a), HttpStatusCode.BadRequest);

        // queues (admin)
        await contract.CheckAsync("GET", Queues, await Send(app, HttpMethod.Get, Queues, TestApp.AdminKey), HttpStatusCode.OK);
        await contract.CheckAsync("GET", "/caller", await Send(app, HttpMethod.Get, "/caller", a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", "/caller", await Send(app, HttpMethod.Get, "/caller", null), HttpStatusCode.Unauthorized);
        await contract.CheckAsync("GET", Queues, await Send(app, HttpMethod.Get, Queues, a), HttpStatusCode.Forbidden);
        await contract.CheckAsync("GET", "/servers", await Send(app, HttpMethod.Get, "/servers", TestApp.AdminKey), HttpStatusCode.OK);
        await contract.CheckAsync("GET", "/servers", await Send(app, HttpMethod.Get, "/servers", a), HttpStatusCode.Forbidden);
        await contract.CheckAsync("POST", Pause, await Send(app, HttpMethod.Post, "/queues/nobody/pause", TestApp.AdminKey), HttpStatusCode.OK);
        await contract.CheckAsync("POST", Pause, await Send(app, HttpMethod.Post, "/queues/no%20such/pause", TestApp.AdminKey), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", Resume, await Send(app, HttpMethod.Post, "/queues/nobody/resume", TestApp.AdminKey), HttpStatusCode.OK);
        await contract.CheckAsync("POST", Resume, await Send(app, HttpMethod.Post, "/queues/nobody/resume", a), HttpStatusCode.Forbidden);

        // schedules
        await contract.CheckAsync("POST", Schedules, await Send(app, HttpMethod.Post, Schedules, a, """{"name": "report:nightly", "cron": "30 2 * * *", "time_zone": "Europe/Berlin", "job_type": "test:noop", "payload": {"n": 1}, "queue": "low", "max_retry": 2, "timeout_seconds": 30, "misfire": "all", "overlap": "skip_while_unfinished"}"""), HttpStatusCode.Created);
        await contract.CheckAsync("POST", Schedules, await Send(app, HttpMethod.Post, Schedules, a, """{"name": "report:nightly", "cron": "@daily", "job_type": "test:noop"}"""), HttpStatusCode.Conflict);
        await contract.CheckAsync("POST", Schedules, await Send(app, HttpMethod.Post, Schedules, a, """{"name": "bad", "cron": "61 * * * *", "job_type": "test:noop"}"""), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", Schedules, await Send(app, HttpMethod.Post, Schedules, a, $$"""{"name": "big", "cron": "@daily", "job_type": "test:noop", "payload": "{{new string('x', 5000)}}"}"""), HttpStatusCode.RequestEntityTooLarge);
        await contract.CheckAsync("POST", Schedules, await Send(app, HttpMethod.Post, Schedules, a, "name=x", contentType: "text/plain"), HttpStatusCode.UnsupportedMediaType);
        await contract.CheckAsync("POST", Schedules, await Send(app, HttpMethod.Post, Schedules, null, """{"name": "x", "cron": "@daily", "job_type": "test:noop"}"""), HttpStatusCode.Unauthorized);
        await contract.CheckAsync("PUT", Schedule, await Send(app, HttpMethod.Put, "/schedules/sync", a, """{"cron": "0 * * * *", "job_type": "test:noop", "paused": true}"""), HttpStatusCode.Created);
        await contract.CheckAsync("PUT", Schedule, await Send(app, HttpMethod.Put, "/schedules/sync", a, """{"name": "sync", "cron": "*/5 * * * *", "job_type": "test:noop"}"""), HttpStatusCode.OK);
        await contract.CheckAsync("PUT", Schedule, await Send(app, HttpMethod.Put, "/schedules/sync", a, """{"cron": "*/5 * * * *", "time_zone": "Mars/Base", "job_type": "test:noop"}"""), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", Schedules, await Send(app, HttpMethod.Get, "/schedules?limit=1", a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Schedules, await Send(app, HttpMethod.Get, "/schedules?limit=0", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", TriggerSchedule, await Send(app, HttpMethod.Post, "/schedules/sync/trigger", a), HttpStatusCode.Accepted);
        await contract.CheckAsync("POST", TriggerSchedule, await Send(app, HttpMethod.Post, "/schedules/nothing/trigger", a), HttpStatusCode.NotFound);
        await contract.CheckAsync("POST", TriggerSchedule, await Send(app, HttpMethod.Post, "/schedules/bad%20name/trigger", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", Schedule, await Send(app, HttpMethod.Get, "/schedules/sync", a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Schedule, await Send(app, HttpMethod.Get, "/schedules/sync", TestApp.KeyB), HttpStatusCode.NotFound);
        await contract.CheckAsync("GET", Schedule, await Send(app, HttpMethod.Get, "/schedules/bad%20name", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", PauseSchedule, await Send(app, HttpMethod.Post, "/schedules/report:nightly/pause", a), HttpStatusCode.OK);
        await contract.CheckAsync("POST", PauseSchedule, await Send(app, HttpMethod.Post, "/schedules/nothing/pause", a), HttpStatusCode.NotFound);
        await contract.CheckAsync("POST", ResumeSchedule, await Send(app, HttpMethod.Post, "/schedules/report:nightly/resume", a), HttpStatusCode.OK);
        await contract.CheckAsync("POST", ResumeSchedule, await Send(app, HttpMethod.Post, "/schedules/report:nightly/resume", TestApp.KeyB), HttpStatusCode.NotFound);
        await app.Store.TryCreateScheduleAsync(new ScheduleRecord
        {
            Tenant = "tenant-a", Name = "from:code", Cron = "@daily", TimeZone = "UTC", JobType = "test:noop", Payload = "{}"u8.ToArray(), Origin = ScheduleOrigin.Code,
        }, CancellationToken.None);
        await contract.CheckAsync("PUT", Schedule, await Send(app, HttpMethod.Put, "/schedules/from:code", a, """{"cron": "@hourly", "job_type": "test:noop"}"""), HttpStatusCode.Conflict);
        await contract.CheckAsync("DELETE", Schedule, await Send(app, HttpMethod.Delete, "/schedules/from:code", a), HttpStatusCode.Conflict);
        // Listed: one with its last job (triggered above), one paused without ticks, one from code that never fired.
        await contract.CheckAsync("GET", Schedules, await Send(app, HttpMethod.Get, Schedules, a), HttpStatusCode.OK);
        await contract.CheckAsync("DELETE", Schedule, await Send(app, HttpMethod.Delete, "/schedules/sync", a), HttpStatusCode.NoContent);
        await contract.CheckAsync("DELETE", Schedule, await Send(app, HttpMethod.Delete, "/schedules/sync", a), HttpStatusCode.NotFound);
        await contract.CheckAsync("DELETE", Schedule, await Send(app, HttpMethod.Delete, "/schedules/bad%20name", a), HttpStatusCode.BadRequest);

        // limits: any key reads, admin keys change
        const string Limits = "/limits", Limit = "/limits/{kind}/{name}";
        await contract.CheckAsync("PUT", Limit, await Send(app, HttpMethod.Put, "/limits/concurrency/imports", TestApp.AdminKey, """{"queue": "imports", "partition": "tenant", "max": 1}"""), HttpStatusCode.Created);
        await contract.CheckAsync("PUT", Limit, await Send(app, HttpMethod.Put, "/limits/rate/partner", TestApp.AdminKey, """{"queue": "partner", "job_type": "test:noop", "limit": 10, "period_seconds": 1, "burst": 2}"""), HttpStatusCode.Created);
        await contract.CheckAsync("PUT", Limit, await Send(app, HttpMethod.Put, "/limits/rate/partner", TestApp.AdminKey, """{"queue": "partner", "job_type": null, "limit": 5, "period_seconds": 0.5}"""), HttpStatusCode.OK);
        await contract.CheckAsync("PUT", Limit, await Send(app, HttpMethod.Put, "/limits/rate/partner", TestApp.AdminKey, """{"queue": "partner", "limit": 5}"""), HttpStatusCode.BadRequest);
        await contract.CheckAsync("PUT", Limit, await Send(app, HttpMethod.Put, "/limits/rate/partner", a, """{"queue": "partner", "limit": 5, "period_seconds": 1}"""), HttpStatusCode.Forbidden);
        await contract.CheckAsync("PUT", Limit, await Send(app, HttpMethod.Put, "/limits/rate/partner", TestApp.AdminKey, "limit=5", contentType: "text/plain"), HttpStatusCode.UnsupportedMediaType);
        await contract.CheckAsync("PUT", Limit, await Send(app, HttpMethod.Put, "/limits/rate/partner", TestApp.AdminKey, $$"""{"queue": "{{new string('x', 5000)}}"}"""), HttpStatusCode.RequestEntityTooLarge);
        await contract.CheckAsync("GET", Limits, await Send(app, HttpMethod.Get, Limits, a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Limits, await Send(app, HttpMethod.Get, Limits, null), HttpStatusCode.Unauthorized);
        await contract.CheckAsync("GET", Limit, await Send(app, HttpMethod.Get, "/limits/rate/partner", a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", Limit, await Send(app, HttpMethod.Get, "/limits/rate/nothing", a), HttpStatusCode.NotFound);
        await contract.CheckAsync("GET", Limit, await Send(app, HttpMethod.Get, "/limits/speed/partner", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", Queues, await Send(app, HttpMethod.Get, Queues, TestApp.AdminKey), HttpStatusCode.OK);
        await contract.CheckAsync("GET", "/caller", await Send(app, HttpMethod.Get, "/caller", a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", "/caller", await Send(app, HttpMethod.Get, "/caller", null), HttpStatusCode.Unauthorized);
        await contract.CheckAsync("DELETE", Limit, await Send(app, HttpMethod.Delete, "/limits/rate/partner", a), HttpStatusCode.Forbidden);
        await contract.CheckAsync("DELETE", Limit, await Send(app, HttpMethod.Delete, "/limits/rate/partner", TestApp.AdminKey), HttpStatusCode.NoContent);
        await contract.CheckAsync("DELETE", Limit, await Send(app, HttpMethod.Delete, "/limits/rate/partner", TestApp.AdminKey), HttpStatusCode.NotFound);
        await contract.CheckAsync("DELETE", Limit, await Send(app, HttpMethod.Delete, "/limits/rate/bad%20name", TestApp.AdminKey), HttpStatusCode.BadRequest);

        // batches and workflows (WorkflowsApiTests checks every answer of these in detail)
        var workflows = app.Services.GetRequiredService<IWorkflowClient>();
        var batchJob = app.Services.GetRequiredService<IJobClient>().CreateJob("test:noop", "{}"u8.ToArray(), new JobOptions { Tenant = "tenant-a", Queue = "nobody" });
        var started = await workflows.StartWorkflowAsync(new WorkflowBuilder("contract").Add("only", batchJob));
        await contract.CheckAsync("GET", "/batches/{batchId}", await Send(app, HttpMethod.Get, "/batches/" + started.WorkflowId, a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", "/batches/{batchId}", await Send(app, HttpMethod.Get, "/batches/bad", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", "/workflows/{workflowId}", await Send(app, HttpMethod.Get, "/workflows/" + started.WorkflowId, a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", "/workflows/{workflowId}", await Send(app, HttpMethod.Get, "/workflows/" + started.WorkflowId, TestApp.KeyB), HttpStatusCode.NotFound);
        await contract.CheckAsync("POST", "/batches/{batchId}/cancel", await Send(app, HttpMethod.Post, $"/batches/{started.WorkflowId}/cancel", a), HttpStatusCode.OK);
        await contract.CheckAsync("POST", "/batches/{batchId}/cancel", await Send(app, HttpMethod.Post, $"/batches/{started.WorkflowId}/cancel", a), HttpStatusCode.Conflict);
        await contract.CheckAsync("GET", "/batches", await Send(app, HttpMethod.Get, "/batches?status=CANCELLED&limit=1", a), HttpStatusCode.OK);
        await contract.CheckAsync("GET", "/batches", await Send(app, HttpMethod.Get, "/batches?limit=0", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", "/batches", await Send(app, HttpMethod.Get, "/batches?tenant=tenant-b", a), HttpStatusCode.Forbidden);
        await contract.CheckAsync("GET", "/workflows", await Send(app, HttpMethod.Get, "/workflows?tenant=tenant-a", TestApp.AdminKey), HttpStatusCode.OK);
        await contract.CheckAsync("GET", "/workflows", await Send(app, HttpMethod.Get, "/workflows?status=running", a), HttpStatusCode.BadRequest);
        await contract.CheckAsync("GET", "/workflows", await Send(app, HttpMethod.Get, "/workflows", null), HttpStatusCode.Unauthorized);
        const string Batches = "/batches", BatchJobs = "/batches/{batchId}/jobs", Workflows = "/workflows";
        const string BatchBody = """{"jobs": [{"type": "test:noop", "queue": "nobody"}], "on_success": {"type": "test:noop"}, "on_complete": null, "retention_seconds": 3600}""";
        string createdBatch;
        using (var created = await Send(app, HttpMethod.Post, Batches, a, BatchBody, idempotencyKey: "b-1"))
        {
            await contract.CheckAsync("POST", Batches, created, HttpStatusCode.Created);
            createdBatch = created.Headers.Location!.OriginalString.Split('/')[^1];
        }

        await contract.CheckAsync("POST", Batches, await Send(app, HttpMethod.Post, Batches, a, BatchBody, idempotencyKey: "b-1"), HttpStatusCode.Created);
        await contract.CheckAsync("POST", Batches, await Send(app, HttpMethod.Post, Batches, a, """{"jobs": [{"type": "test:noop", "queue": "elsewhere"}]}""", idempotencyKey: "b-1"), HttpStatusCode.Conflict);
        await contract.CheckAsync("POST", Batches, await Send(app, HttpMethod.Post, Batches, a, """{"jobs": [{"type": "test:noop", "max_retry": -1}]}"""), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", Batches, await Send(app, HttpMethod.Post, Batches, null, BatchBody), HttpStatusCode.Unauthorized);
        await contract.CheckAsync("POST", Batches, await Send(app, HttpMethod.Post, Batches + "?tenant=tenant-b", a, BatchBody), HttpStatusCode.Forbidden);
        await contract.CheckAsync("POST", Batches, await Send(app, HttpMethod.Post, Batches, a, $$"""{"jobs": [{"type": "test:noop", "payload": "{{new string('x', 5000)}}"}]}"""), HttpStatusCode.RequestEntityTooLarge);
        await contract.CheckAsync("POST", Batches, await Send(app, HttpMethod.Post, Batches, a, "jobs=1", contentType: "text/plain"), HttpStatusCode.UnsupportedMediaType);
        await contract.CheckAsync("POST", BatchJobs, await Send(app, HttpMethod.Post, $"/batches/{createdBatch}/jobs", a, """{"jobs": [{"type": "test:noop", "queue": "nobody"}]}"""), HttpStatusCode.Created);
        await contract.CheckAsync("POST", BatchJobs, await Send(app, HttpMethod.Post, $"/batches/{createdBatch}/jobs", a, """{"jobs": []}"""), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", BatchJobs, await Send(app, HttpMethod.Post, $"/batches/{createdBatch}/jobs", TestApp.KeyB, """{"jobs": [{"type": "test:noop"}]}"""), HttpStatusCode.NotFound);
        await contract.CheckAsync("POST", BatchJobs, await Send(app, HttpMethod.Post, $"/batches/{started.WorkflowId}/jobs", a, """{"jobs": [{"type": "test:noop"}]}"""), HttpStatusCode.Conflict);
        const string WorkflowBody = """{"name": "contract", "steps": [{"name": "a", "job": {"type": "test:noop", "queue": "nobody"}}, {"name": "b", "job": {"type": "test:noop"}, "after": ["a"], "on_dependency_failure": "fail"}]}""";
        await contract.CheckAsync("POST", Workflows, await Send(app, HttpMethod.Post, Workflows, a, WorkflowBody, idempotencyKey: "w-1"), HttpStatusCode.Created);
        await contract.CheckAsync("POST", Workflows, await Send(app, HttpMethod.Post, Workflows, a, WorkflowBody, idempotencyKey: "w-1"), HttpStatusCode.Created);
        await contract.CheckAsync("POST", Workflows, await Send(app, HttpMethod.Post, Workflows, a, WorkflowBody.Replace("\"fail\"", "\"run\"", StringComparison.Ordinal), idempotencyKey: "w-1"), HttpStatusCode.Conflict);
        await contract.CheckAsync("POST", Workflows, await Send(app, HttpMethod.Post, Workflows, a, """{"steps": [{"name": "a", "job": {"type": "test:noop"}, "after": ["a"]}]}"""), HttpStatusCode.BadRequest);
        await contract.CheckAsync("POST", Workflows, await Send(app, HttpMethod.Post, Workflows, null, WorkflowBody), HttpStatusCode.Unauthorized);
        await contract.CheckAsync("POST", Workflows, await Send(app, HttpMethod.Post, Workflows + "?tenant=tenant-b", a, WorkflowBody), HttpStatusCode.Forbidden);
        await contract.CheckAsync("POST", Workflows, await Send(app, HttpMethod.Post, Workflows, a, $$"""{"steps": [{"name": "{{new string('x', 5000)}}"}]}"""), HttpStatusCode.RequestEntityTooLarge);
        await contract.CheckAsync("POST", Workflows, await Send(app, HttpMethod.Post, Workflows, a, "steps=1", contentType: "text/plain"), HttpStatusCode.UnsupportedMediaType);

        // health and metrics
        await contract.CheckAsync("GET", "/healthz", await Send(app, HttpMethod.Get, "/healthz", null), HttpStatusCode.OK);
        await contract.CheckAsync("GET", "/readyz", await Send(app, HttpMethod.Get, "/readyz", null), HttpStatusCode.OK);
        await contract.CheckAsync("GET", "/metrics", await Send(app, HttpMethod.Get, "/metrics", null), HttpStatusCode.OK);

        // 429 from a tenant over its rate limit, 503 from a store that does not answer.
        await using (var limited = await TestApp.StartAsync(new Dictionary<string, string?> { ["RateLimit:PermitsPerSecond"] = "1", ["RateLimit:Burst"] = "1" }))
        {
            HttpResponseMessage response;
            while ((response = await Send(limited, HttpMethod.Get, Jobs, null)).StatusCode == HttpStatusCode.OK)
            {
                await contract.CheckAsync("GET", Jobs, response);
            }

            await contract.CheckAsync("GET", Jobs, response, HttpStatusCode.TooManyRequests);
        }

        await using (var down = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>(HealthAndMetricsTests.UnavailableStore.Create()))))
        {
            await contract.CheckAsync("GET", Job, await Send(down, HttpMethod.Get, "/jobs/" + Unknown, null), HttpStatusCode.ServiceUnavailable);
            await contract.CheckAsync("POST", Jobs, await Send(down, HttpMethod.Post, Jobs, null, """{"type": "test:noop"}"""), HttpStatusCode.ServiceUnavailable);
            await contract.CheckAsync("GET", "/readyz", await Send(down, HttpMethod.Get, "/readyz", null), HttpStatusCode.ServiceUnavailable);
        }

        Assert.Empty(contract.Operations.Except(contract.Covered));
    }

    [Fact]
    public async Task Numbers_AreDocumentedAsNumbers_NotAlsoAsStrings()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);

        var both = Descendants(contract.Document)
            .Where(static n => n["type"] is JsonArray types && types.Any(static t => t!.GetValue<string>() is "integer" or "number") && types.Any(static t => t!.GetValue<string>() == "string"))
            .Select(static n => n.GetPath())
            .ToList();

        Assert.Empty(both);
        var batch = contract.Document["components"]!["schemas"]!["BatchResponse"]!["properties"]!;
        Assert.Equal("integer", batch["total"]!["type"]!.GetValue<string>());

        static IEnumerable<JsonObject> Descendants(JsonNode node) => node switch
        {
            JsonObject o => o.Select(static p => p.Value).Where(static v => v is not null).SelectMany(v => Descendants(v!)).Prepend(o),
            JsonArray a => a.Where(static v => v is not null).SelectMany(v => Descendants(v!)),
            _ => [],
        };
    }

    [Fact]
    public async Task Timestamps_AreDeclaredDateTimes_AndAJobsStatus_OneOfTheStatuses()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var schemas = contract.Document["components"]!["schemas"]!;

        // Every timestamp the answers carry is declared, so that a checker of the answers tests its form.
        var undeclared = schemas.AsObject()
            .SelectMany(static s => (s.Value!["properties"]?.AsObject() ?? []).Select(p => (Schema: s.Key, Property: p.Key, Value: p.Value!)))
            .Where(static p => (p.Property.EndsWith("_at", StringComparison.Ordinal) || p.Property == "deadline") && p.Value["$ref"] is null && p.Value["format"]?.GetValue<string>() != "date-time")
            .Select(static p => $"{p.Schema}.{p.Property}")
            .ToList();
        Assert.Empty(undeclared);

        var statuses = Enum.GetValues<JobState>().Select(static s => s.ToApiStatus()).ToArray();
        Assert.Equal(statuses, schemas["JobResponse"]!["properties"]!["status"]!["enum"]!.AsArray().Select(static v => v!.GetValue<string>()));
        Assert.Equal([.. statuses, null], schemas["WorkflowStepResponse"]!["properties"]!["status"]!["enum"]!.AsArray().Select(static v => v?.GetValue<string>()));
        Assert.Equal([.. statuses, null], schemas["ScheduleResponse"]!["properties"]!["last_job_status"]!["enum"]!.AsArray().Select(static v => v?.GetValue<string>()));

        // The answers keep to both: a job as created, read and listed.
        using var created = await app.Client.PostAsync("/jobs", TestApp.Json("""{"type": "test:noop"}"""));
        var id = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("job_id").GetString();
        foreach (var (path, template) in new[] { ($"/jobs/{id}", "/jobs/{jobId}"), ("/jobs", "/jobs") })
        {
            using var response = await app.Client.GetAsync(path);
            await contract.CheckAsync("GET", template, response, HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task JobBodies_SayWhichAnswersLeaveOutThePayloadAndTheStackTraces()
    {
        await using var app = await TestApp.StartAsync();
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var schemas = contract.Document["components"]!["schemas"]!;

        foreach (var (path, status) in new[] { (Cancel, "200"), (Cancel, "202"), (Retry, "202"), ("/jobs/{jobId}/signals/{name}", "202") })
        {
            var operation = contract.Operation("POST", path);
            Assert.Equal("#/components/schemas/JobResponse", operation["responses"]![status]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
            Assert.Contains("without its payload and without its errors' stack_trace", operation["description"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // Both may be absent from a job the document describes; it says where.
        Assert.DoesNotContain(schemas["JobResponse"]!["required"]!.AsArray(), r => r!.GetValue<string>() == "payload");
        Assert.DoesNotContain(schemas["JobErrorResponse"]!["required"]?.AsArray() ?? [], r => r!.GetValue<string>() == "stack_trace");
        Assert.Contains("listings and of the answers of cancel, retry and signal", schemas["JobResponse"]!["properties"]!["payload"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("listings and of the answers of cancel, retry and signal", schemas["JobErrorResponse"]!["properties"]!["stack_trace"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("with its payload and its errors with their stack traces", contract.Operation("GET", Job)["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BatchAndWorkflowBodies_AreDocumentedAsTheParsersReadThem()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);

        var batch = contract.Operation("POST", "/batches");
        var batchBody = batch["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.Equal(WorkflowsApi.BatchRequestParser.Fields.Order(), batchBody["properties"]!.AsObject().Select(p => p.Key).Order());
        Assert.Equal("jobs", Assert.Single(batchBody["required"]!.AsArray())!.GetValue<string>());
        Assert.False(batchBody["additionalProperties"]!.GetValue<bool>());
        Assert.Equal(WorkflowsApi.BatchRequestParser.MaxJobs, batchBody["properties"]!["jobs"]!["maxItems"]!.GetValue<int>());
        Assert.Equal(CreateJobRequestParser.Fields.Order(), batchBody["properties"]!["jobs"]!["items"]!["properties"]!.AsObject().Select(p => p.Key).Order());
        contract.AssertValid(batchBody, """{"jobs": [{"type": "test:note", "payload": {"note_id": 1}, "queue": "low"}], "on_success": {"type": "test:noop"}, "on_complete": null, "retention_seconds": 3600}""", "a batch");
        Assert.Contains(batch["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "Idempotency-Key");
        Assert.NotNull(batch["responses"]!["201"]!["headers"]!["Location"]);
        var add = contract.Operation("POST", "/batches/{batchId}/jobs")["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.Equal(WorkflowsApi.BatchRequestParser.AddFields, add["properties"]!.AsObject().Select(p => p.Key));

        var workflow = contract.Operation("POST", "/workflows");
        var workflowBody = workflow["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.Equal(WorkflowsApi.WorkflowRequestParser.Fields.Order(), workflowBody["properties"]!.AsObject().Select(p => p.Key).Order());
        Assert.Equal("steps", Assert.Single(workflowBody["required"]!.AsArray())!.GetValue<string>());
        var step = workflowBody["properties"]!["steps"]!["items"]!;
        Assert.Equal(WorkflowsApi.WorkflowRequestParser.StepFields.Order(), step["properties"]!.AsObject().Select(p => p.Key).Order());
        Assert.Equal(new[] { "job", "name" }, step["required"]!.AsArray().Select(r => r!.GetValue<string>()).Order());
        Assert.Equal(JobsApi.DependencyFailurePolicy.Names.Append<string?>(null), step["properties"]!["on_dependency_failure"]!["enum"]!.AsArray().Select(v => v?.GetValue<string>()));
        contract.AssertValid(workflowBody, """{"name": "monthly", "steps": [{"name": "a", "job": {"type": "test:noop"}}, {"name": "b", "job": {"type": "test:noop"}, "after": ["a"], "on_dependency_failure": "fail"}], "retention_seconds": 60}""", "a workflow");
        Assert.NotNull(workflow["responses"]!["201"]!["headers"]!["Location"]);
        foreach (var (method, path) in new[] { ("POST", "/batches"), ("POST", "/batches/{batchId}/jobs"), ("POST", "/workflows") })
        {
            foreach (var status in new[] { "400", "401", "403", "409", "413", "415", "429", "503" })
            {
                Assert.True(contract.Operation(method, path)["responses"]![status]?["content"]?["application/problem+json"] is not null, $"{method} {path} does not declare {status} as problem+json");
            }
        }
    }

    [Fact]
    public async Task CreateJob_DocumentsTheBodyTheParserAccepts_TheHeadersAndTheKeys()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);

        var create = contract.Operation("POST", Jobs);
        var body = create["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.Equal(CreateJobRequestParser.Fields.Concat(CreateJobRequestParser.ContinuationFields).Order(), body["properties"]!.AsObject().Select(p => p.Key).Order());
        Assert.Equal("type", Assert.Single(body["required"]!.AsArray())!.GetValue<string>());
        Assert.Equal(JobDependenciesParser.MaxAfter, body["properties"]!["after"]!["maxItems"]!.GetValue<int>());
        Assert.Equal(DependencyFailurePolicy.Names.Append<string?>(null), body["properties"]!["on_dependency_failure"]!["enum"]!.AsArray().Select(v => v?.GetValue<string>()));
        contract.AssertValid(body, """{"type": "test:noop", "after": ["job_31c8927959d5442e90e3a6bc5a9188ec", "idem_0"], "on_dependency_failure": "fail"}""", "a continuation");
        Assert.False(body["additionalProperties"]!.GetValue<bool>());
        contract.AssertValid(body, """{"type": "test:note", "payload": {"note_id": 42}, "queue": "critical", "max_retry": 3, "timeout_seconds": 30, "deadline": "2030-01-31T09:30:00Z", "process_at": "2030-01-31T09:00:00Z", "unique_key": "daily", "unique_for_seconds": 3600, "retention_seconds": 86400}""", "a full body");
        Assert.Contains(create["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "Idempotency-Key" && p["in"]!.GetValue<string>() == "header");
        Assert.NotNull(create["responses"]!["202"]!["headers"]!["Location"]);
        foreach (var status in new[] { "400", "401", "409", "413", "415", "429", "503" })
        {
            Assert.True(create["responses"]![status]?["content"]?["application/problem+json"] is not null, $"POST /jobs does not declare {status} as problem+json");
        }

        var list = contract.Operation("GET", Jobs)["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>());
        Assert.Equal(new[] { "batch_id", "created_after", "created_before", "cursor", "error", "limit", "queue", "status", "tenant", "type" }, list.Order());
        var bulk = contract.Operation("POST", Bulk)["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.Equal(JobFilterParser.Names.Order(), bulk["oneOf"]![1]!["properties"]!["filter"]!["properties"]!.AsObject().Select(p => p.Key).Order());
        contract.AssertValid(bulk, """{"action": "retry", "filter": {"status": "FAILED", "error": "timeout", "created_after": "2026-01-01T00:00:00Z", "tenant": "*", "type": null}, "cursor": null, "limit": 500}""", "a filter batch");
        contract.AssertValid(bulk, """{"action": "delete", "ids": ["job_31c8927959d5442e90e3a6bc5a9188ec"], "tenant": "acme"}""", "a list of ids");
        Assert.Equal(OpenApi.ConveyorOpenApi.PathSegment(ConveyorOpenApiPatterns.JobId), contract.Operation("GET", Job)["parameters"]![0]!["schema"]!["pattern"]!.GetValue<string>());
        Assert.Equal(OpenApi.ConveyorOpenApi.PathSegment(ConveyorOpenApiPatterns.Queue), contract.Operation("POST", Pause)["parameters"]![0]!["schema"]!["pattern"]!.GetValue<string>());
        foreach (var (method, path) in new[] { ("GET", Schedule), ("PUT", Schedule), ("DELETE", Schedule), ("POST", PauseSchedule), ("POST", ResumeSchedule), ("POST", TriggerSchedule) })
        {
            Assert.Equal(OpenApi.ConveyorOpenApi.PathSegment(OpenApi.ConveyorOpenApi.ScheduleNamePattern), contract.Operation(method, path)["parameters"]![0]!["schema"]!["pattern"]!.GetValue<string>());
        }

        var createSchedule = contract.Operation("POST", Schedules)["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.Equal(Conveyor.AspNetCore.SchedulesApi.ScheduleRequestParser.Fields.Order(), createSchedule["properties"]!.AsObject().Select(p => p.Key).Order());
        Assert.False(createSchedule["additionalProperties"]!.GetValue<bool>());
        contract.AssertValid(createSchedule, """{"name": "report:nightly", "cron": "30 2 * * *", "time_zone": "Europe/Berlin", "job_type": "test:noop", "payload": {"rows": 5}, "queue": "low", "max_retry": 3, "timeout_seconds": 60, "misfire": "once", "overlap": "allow", "paused": false}""", "a full schedule");
        Assert.Equal(new[] { "cursor", "limit", "tenant" }, contract.Operation("GET", Schedules)["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).Order());
        Assert.NotNull(contract.Operation("POST", TriggerSchedule)["responses"]!["202"]!["headers"]!["Location"]);
        foreach (var status in new[] { "400", "401", "409", "413", "415", "429", "503" })
        {
            Assert.True(contract.Operation("PUT", Schedule)["responses"]![status]?["content"]?["application/problem+json"] is not null, $"PUT /schedules/{{name}} does not declare {status} as problem+json");
        }
        var schemes = contract.Document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal("bearer", schemes["bearer"]!["scheme"]!.GetValue<string>());
        Assert.Equal("X-Api-Key", schemes["apiKey"]!["name"]!.GetValue<string>());
        Assert.Equal(2, create["security"]!.AsArray().Count);
        Assert.Null(contract.Operation("GET", "/healthz")["security"]);
    }

    private static class ConveyorOpenApiPatterns
    {
        public static string JobId => OpenApi.ConveyorOpenApi.JobIdPattern;

        public static string Queue => OpenApi.ConveyorOpenApi.QueueNamePattern;
    }

    private static async Task<HttpResponseMessage> Send(TestApp app, HttpMethod method, string path, string? key, string? body = null, string? idempotencyKey = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, contentType);
        }

        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await app.Client.SendAsync(request);
    }
}
