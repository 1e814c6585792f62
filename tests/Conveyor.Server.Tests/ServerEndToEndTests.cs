using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Conveyor.Server.Tests;

/// <summary>The real server process on a loopback port, driven over HTTP as a user would, then stopped with SIGTERM.</summary>
public sealed class ServerEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private const string KeyA = "end-to-end-key-of-tenant-a";
    private const string KeyB = "end-to-end-key-of-tenant-b";

    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-e2e-").FullName;

    private Dictionary<string, string> Settings() => new()
    {
        ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db"),
        ["Conveyor__Server__Concurrency"] = "4",
        ["Conveyor__Samples__ReportStepDelay"] = "00:00:00.050",
        ["Conveyor__Api__Keys__0__Key"] = KeyA,
        ["Conveyor__Api__Keys__0__Tenant"] = "tenant-a",
        ["Conveyor__Api__Keys__1__Key"] = KeyB,
        ["Conveyor__Api__Keys__1__Tenant"] = "tenant-b",
    };

    [Fact]
    public async Task Report_CreatedOverHttp_RunsToSuccess_AndOnlyItsTenantDownloadsTheCsv()
    {
        using var server = WorkerProcess.Start(_directory, Settings());
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };

        // Rows out of the documented 1 to 1,000,000 are refused before the 202 (the payload's own rule), nothing stored.
        using var refused = await SendAsync(http, HttpMethod.Post, "/jobs", KeyA, """{"type": "report:generate", "payload": {"rows": 0}}""");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("payload.rows: must be between 1 and 1000000; it is 0.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var created = await SendAsync(http, HttpMethod.Post, "/jobs", KeyA, """{"type": "report:generate", "payload": {"rows": 250}}""");
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var jobId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!;
        Assert.Equal($"/jobs/{jobId}", created.Headers.Location!.OriginalString);

        var job = await WaitForStatusAsync(http, jobId, KeyA, "SUCCESS", server);
        Assert.Equal(100, job.GetProperty("progress").GetInt32());
        Assert.Equal(250, job.GetProperty("result").GetProperty("rows").GetInt32());
        var resultUrl = job.GetProperty("result_url").GetString()!;

        using var download = await SendAsync(http, HttpMethod.Get, resultUrl, KeyA);
        using var otherTenant = await SendAsync(http, HttpMethod.Get, resultUrl, KeyB);
        using var noKey = await SendAsync(http, HttpMethod.Get, resultUrl, null);

        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("text/csv", download.Content.Headers.ContentType!.MediaType);
        Assert.True(download.Headers.CacheControl?.NoStore == true, "a tenant's report is kept by no cache");
        var lines = (await download.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("row,sku,quantity,unit_price,total", lines[0]);
        Assert.Equal(251, lines.Length);
        Assert.Equal(HttpStatusCode.NotFound, otherTenant.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        using var badId = await SendAsync(http, HttpMethod.Get, "/reports/a%20b.csv", KeyA);
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
        Assert.Contains("jobId", await badId.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var openApi = await http.GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/jobs/{jobId}/cancel\"", openApi, StringComparison.Ordinal);
        var report = JsonDocument.Parse(openApi).RootElement.GetProperty("paths").GetProperty("/reports/{jobId}.csv").GetProperty("get").GetProperty("responses");
        Assert.True(report.GetProperty("200").GetProperty("content").TryGetProperty("text/csv", out _), "the document names the CSV a report answers");
        Assert.True(report.TryGetProperty("404", out _), "the document names the 404 of another tenant's or an unknown report");
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("job_processed_total{task_type=\"report:generate\",queue=\"default\",status=\"success\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("<title>Conveyor dashboard</title>", await http.GetStringAsync("/dashboard"), StringComparison.Ordinal);
        Assert.Contains("\"ready\"", await http.GetStringAsync("/readyz"), StringComparison.Ordinal);

        server.Terminate();
        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the server did not exit after SIGTERM");
        Assert.Equal(0, server.ExitCode);
    }

    [Fact]
    public async Task BulkImport_WithBadRows_EndsPartialSuccess_WithOneErrorPerBadRow_AndTheGoodRowsInTheTable()
    {
        using var server = WorkerProcess.Start(_directory, Settings());
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };
        var body = JsonSerializer.Serialize(new
        {
            type = "bulk:import",
            payload = new { format = "csv", data = "sku,qty\nA-1,5\n,3\nB-2,zero\nC-3,-4\nD-4,8\n" },
        });

        using var created = await SendAsync(http, HttpMethod.Post, "/jobs", KeyA, body);
        var jobId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!;
        var job = await WaitForStatusAsync(http, jobId, KeyA, "PARTIAL_SUCCESS", server);

        var errors = job.GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal(["line 3", "line 4", "line 5"], errors.Select(e => e.GetProperty("item").GetString()!).ToArray());
        Assert.Contains("sku", errors[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("qty", errors[1].GetProperty("message").GetString(), StringComparison.Ordinal);
        using var inventory = await SendAsync(http, HttpMethod.Get, "/inventory", KeyA);
        var rows = await inventory.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["A-1", "D-4"], rows.EnumerateArray().Select(r => r.GetProperty("sku").GetString()!).ToArray());
        using var otherInventory = await SendAsync(http, HttpMethod.Get, "/inventory", KeyB);
        Assert.Equal(0, (await otherInventory.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength());
        Assert.True(File.Exists(Path.Combine(_directory, "samples.db")));

        using var clean = await SendAsync(http, HttpMethod.Post, "/jobs", KeyA, """{"type": "bulk:import", "payload": {"format": "csv", "data": "sku,qty\nE-5,1"}}""");
        var cleanId = (await clean.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!;
        await WaitForStatusAsync(http, cleanId, KeyA, "SUCCESS", server);
    }

    [Fact]
    public async Task DemoSleep_CancelledOverHttp_StopsWithinAboutTheLease()
    {
        using var server = WorkerProcess.Start(_directory, Settings());
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };
        using var created = await SendAsync(http, HttpMethod.Post, "/jobs", KeyA, """{"type": "demo:sleep", "payload": {"seconds": 60}}""");
        var jobId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!;
        await WaitForStatusAsync(http, jobId, KeyA, "RUNNING", server);

        var started = DateTime.UtcNow;
        using var cancel = await SendAsync(http, HttpMethod.Post, $"/jobs/{jobId}/cancel", KeyA);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        await WaitForStatusAsync(http, jobId, KeyA, "CANCELLED", server);
        output.WriteLine($"Cancelled {(DateTime.UtcNow - started).TotalSeconds:F2} s after the request.");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ArchiveNote_FiredAndForgottenOverHttp_AnswersAtOnce_AndRunsOnTheLowQueueOfTheCallersTenant()
    {
        using var server = WorkerProcess.Start(_directory, Settings());
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };

        using var accepted = await SendAsync(http, HttpMethod.Post, "/notes/42/archive", KeyA);
        foreach (var bad in new[] { "/notes/abc/archive", "/notes/0/archive", "/notes/99999999999999999999/created", "/notes/-1/created", "/notes/0042/archive" })
        {
            using var refused = await SendAsync(http, HttpMethod.Post, bad, KeyA);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("noteId", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var body = await accepted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(42, body.GetProperty("note_id").GetInt64());
        Assert.Equal("low", body.GetProperty("queue").GetString());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        JsonElement job;
        while (true)
        {
            using var listed = await SendAsync(http, HttpMethod.Get, "/jobs?type=note:archive", KeyA);
            var jobs = (await listed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobs");
            if (jobs.GetArrayLength() == 1 && (job = jobs[0]).GetProperty("status").GetString() == "SUCCESS")
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no succeeded note:archive job: {jobs}. Server output:\n{server.Output}");
            await Task.Delay(50);
        }

        Assert.Equal("low", job.GetProperty("queue").GetString());
        Assert.Equal(3, job.GetProperty("max_retry").GetInt32());
        using var otherTenant = await SendAsync(http, HttpMethod.Get, "/jobs?type=note:archive", KeyB);
        Assert.Equal(0, (await otherTenant.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobs").GetArrayLength());
    }

    [Fact]
    public async Task CleanupSchedule_ListedAndTriggeredAsTheReadmeShows_RunsToSuccess()
    {
        // The README's curl: no API key, so the tenant is 'default', the sample schedule's.
        var settings = new Dictionary<string, string>
        {
            ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db"),
            ["Conveyor__Server__Concurrency"] = "2",
        };
        using var server = WorkerProcess.Start(_directory, settings);
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        JsonElement listed;
        while (true)
        {
            using var list = await SendAsync(http, HttpMethod.Get, "/schedules", null);
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            listed = (await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("schedules");
            if (listed.GetArrayLength() > 0)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the server wrote no schedule. Server output:\n{server.Output}");
            await Task.Delay(50);
        }

        Assert.Equal("note:cleanup-old", Assert.Single(listed.EnumerateArray()).GetProperty("name").GetString());
        using var got = await SendAsync(http, HttpMethod.Get, "/schedules/note:cleanup-old", null);
        var schedule = await got.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("0 3 * * *", schedule.GetProperty("cron").GetString());
        Assert.Equal("UTC", schedule.GetProperty("time_zone").GetString());
        Assert.Equal("code", schedule.GetProperty("source").GetString());
        Assert.EndsWith("T03:00:00.000000Z", schedule.GetProperty("next_fire_times")[0].GetString(), StringComparison.Ordinal);

        using var triggered = await SendAsync(http, HttpMethod.Post, "/schedules/note:cleanup-old/trigger", null);
        Assert.Equal(HttpStatusCode.Accepted, triggered.StatusCode);
        var jobId = (await triggered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!;
        Assert.Equal($"/jobs/{jobId}", triggered.Headers.Location!.OriginalString);
        var job = await WaitForStatusAsync(http, jobId, null, "SUCCESS", server);
        Assert.Equal("note:cleanup-old", job.GetProperty("type").GetString());

        using var after = await SendAsync(http, HttpMethod.Get, "/schedules/note:cleanup-old", null);
        var last = await after.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(jobId, last.GetProperty("last_job_id").GetString());
        Assert.Equal("SUCCESS", last.GetProperty("last_job_status").GetString());
    }

    // docs/async-jobs.md's POST /workflows and POST /batches blocks, as written, run on the README's server.
    [Fact]
    public async Task OrdersWorkflowAndBatch_AsTheDocsSendThem_TotalTheirStepsResults()
    {
        using var server = WorkerProcess.Start(_directory, Settings());
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };

        using var workflow = await SendAsync(http, HttpMethod.Post, "/workflows", KeyA, """
            {"name": "daily-orders", "steps": [
              {"name": "split", "job": {"type": "orders:split", "payload": {"day": "2026-12-01"}}},
              {"name": "eu", "job": {"type": "orders:count-region", "payload": {"day": "2026-12-01", "region": "eu"}}, "after": ["split"]},
              {"name": "us", "job": {"type": "orders:count-region", "payload": {"day": "2026-12-01", "region": "us"}}, "after": ["split"]},
              {"name": "total", "job": {"type": "orders:total", "payload": {"day": "2026-12-01"}}, "after": ["eu", "us"], "on_dependency_failure": "fail"}
            ]}
            """);
        Assert.Equal(HttpStatusCode.Created, workflow.StatusCode);
        var total = (await workflow.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("steps").GetProperty("total").GetString()!;
        var result = (await WaitForStatusAsync(http, total, KeyA, "SUCCESS", server)).GetProperty("result");
        Assert.Equal((40, 2), (result.GetProperty("orders").GetInt32(), result.GetProperty("counted").GetInt32()));

        var batch = await CreateBatchAsync(http, """
            {"jobs": [{"type": "orders:count-region", "payload": {"day": "2026-12-01", "region": "eu", "orders": 20}},
                      {"type": "orders:count-region", "payload": {"day": "2026-12-01", "region": "us", "orders": 30}}],
             "on_success": {"type": "orders:total", "payload": {"day": "2026-12-01"}},
             "on_complete": {"type": "orders:total", "payload": {"day": "2026-12-01"}}}
            """);
        var success = (await WaitForStatusAsync(http, batch.GetProperty("on_success_job_id").GetString()!, KeyA, "SUCCESS", server)).GetProperty("result");
        Assert.Equal("""{"day":"2026-12-01","orders":50,"counted":2,"missing":0}""", success.GetRawText().Replace(" ", "", StringComparison.Ordinal));

        // A member that fails: on_complete totals what the others left, on_success never runs.
        var failing = await CreateBatchAsync(http, """
            {"jobs": [{"type": "orders:count-region", "payload": {"day": "2026-12-01", "region": "eu", "orders": 20}},
                      {"type": "orders:count-region", "payload": {"day": "2026-12-01", "region": "us", "fail": true}}],
             "on_success": {"type": "orders:total", "payload": {"day": "2026-12-01"}},
             "on_complete": {"type": "orders:total", "payload": {"day": "2026-12-01"}}}
            """);
        var complete = (await WaitForStatusAsync(http, failing.GetProperty("on_complete_job_id").GetString()!, KeyA, "SUCCESS", server)).GetProperty("result");
        Assert.Equal((20, 1, 1), (complete.GetProperty("orders").GetInt32(), complete.GetProperty("counted").GetInt32(), complete.GetProperty("missing").GetInt32()));
        await WaitForStatusAsync(http, failing.GetProperty("on_success_job_id").GetString()!, KeyA, "CANCELLED", server);

        static async Task<JsonElement> CreateBatchAsync(HttpClient client, string body)
        {
            using var created = await SendAsync(client, HttpMethod.Post, "/batches", KeyA, body);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            return await created.Content.ReadFromJsonAsync<JsonElement>();
        }
    }

    [Fact]
    public async Task PublishNote_WithAShortReview_TimesOut_AndEndsWithoutPublishing()
    {
        using var server = WorkerProcess.Start(_directory, Settings());
        using var http = new HttpClient { BaseAddress = await server.ListeningAddressAsync(TimeSpan.FromSeconds(30)) };

        using var created = await SendAsync(http, HttpMethod.Post, "/jobs", KeyA, """{"type": "note:publish", "payload": {"note_id": 7, "review_seconds": 1}}""");
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var jobId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!;
        await WaitForStatusAsync(http, jobId, KeyA, "SUCCESS", server);

        using var steps = await SendAsync(http, HttpMethod.Get, $"/jobs/{jobId}/steps", KeyA);
        var list = (await steps.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["review step", "approved wait", "approved signal"], list.Select(static s => $"{s.GetProperty("name")} {s.GetProperty("kind")}"));
        Assert.Equal(JsonValueKind.Null, list[2].GetProperty("result").ValueKind);
        Assert.Contains("was not approved in time", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoKeys_OnANonLoopbackAddress_RefusesToStart()
    {
        var settings = new Dictionary<string, string>
        {
            ["Conveyor__Sqlite__Path"] = Path.Combine(_directory, "jobs.db"),
            ["ASPNETCORE_URLS"] = "http://0.0.0.0:0",
        };
        using var server = WorkerProcess.Start(_directory, settings);

        Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the server started anyway");
        Assert.NotEqual(0, server.ExitCode);
        Assert.Contains("Conveyor:Api:Keys is empty", server.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string? key, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return await http.SendAsync(request);
    }

    private static async Task<JsonElement> WaitForStatusAsync(HttpClient http, string jobId, string? key, string status, WorkerProcess server)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var response = await SendAsync(http, HttpMethod.Get, $"/jobs/{jobId}", key);
            var job = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (job.GetProperty("status").GetString() == status)
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} is {job.GetProperty("status")}, not {status}. Server output:\n{server.Output}");
            await Task.Delay(50);
        }
    }
}
