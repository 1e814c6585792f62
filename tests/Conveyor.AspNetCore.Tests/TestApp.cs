using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// An ASP.NET Core application on a TestServer that maps the Jobs API over the in-memory store, with test job types:
/// test:noop (succeeds), test:fail (fails without retry) and test:wait (runs until its token is cancelled).
/// </summary>
internal sealed class TestApp : IAsyncDisposable
{
    public const string KeyA = "key-of-tenant-a-0123456789";
    public const string KeyB = "key-of-tenant-b-0123456789";
    public const string AdminKey = "key-of-the-admin-0123456789";

    private readonly WebApplication _app;

    private TestApp(WebApplication app)
    {
        _app = app;
    }

    private HttpClient? _client;

    public HttpClient Client => _client ??= _app.GetTestClient();

    /// <summary>The address of a Kestrel-hosted app (<c>kestrel: true</c>).</summary>
    public Uri Address => new(_app.Urls.First());

    public IJobStore Store => _app.Services.GetRequiredService<IJobStore>();

    public IServiceProvider Services => _app.Services;

    /// <summary>Completed with the job id when a test:wait handler starts.</summary>
    public TaskCompletionSource<string> WaitStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completed with the job id when a test:wait handler sees its token cancelled.</summary>
    public TaskCompletionSource<string> WaitCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Settings under Conveyor:Api as configuration keys (e.g. "Keys:0:Key").</summary>
    public static Task<TestApp> StartAsync(
        IDictionary<string, string?>? apiSettings = null,
        bool withWorkers = false,
        bool withKeys = false,
        Action<IServiceCollection>? services = null,
        bool kestrel = false)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (withKeys)
        {
            settings["Conveyor:Api:Keys:0:Key"] = KeyA;
            settings["Conveyor:Api:Keys:0:Tenant"] = "tenant-a";
            settings["Conveyor:Api:Keys:1:KeyHash"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(KeyB)));
            settings["Conveyor:Api:Keys:1:Tenant"] = "tenant-b";
            settings["Conveyor:Api:Keys:2:Key"] = AdminKey;
            settings["Conveyor:Api:Keys:2:Tenant"] = "ops";
            settings["Conveyor:Api:Keys:2:Admin"] = "true";
        }

        foreach (var (key, value) in apiSettings ?? new Dictionary<string, string?>())
        {
            settings["Conveyor:Api:" + key] = value;
        }

        return StartAsync(settings, withWorkers, services, kestrel);
    }

    private static async Task<TestApp> StartAsync(Dictionary<string, string?> settings, bool withWorkers, Action<IServiceCollection>? configureServices, bool kestrel)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        if (kestrel)
        {
            // A real HTTP server on a free loopback port, for what only a real server parses (raw requests).
            builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        builder.Logging.ClearProviders();
        // The store gauges are opt-in; these apps publish them, read at most once a second.
        settings.TryAdd("Conveyor:Metrics:StoreGauges", "true");
        settings.TryAdd("Conveyor:Metrics:StoreGaugesInterval", "00:00:01");
        builder.Configuration.AddInMemoryCollection(settings);
        TestApp? testApp = null;
        var conveyor = builder.Services.AddConveyor()
            .UseInMemoryStore()
            .AddHandler("test:noop", (_, _) => Task.CompletedTask)
            .AddHandler("test:fail", (_, _) => throw new SkipRetryException("this job always fails"))
            .AddHandler("test:wait", async (context, cancellationToken) =>
            {
                testApp!.WaitStarted.TrySetResult(context.JobId);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    testApp!.WaitCancelled.TrySetResult(context.JobId);
                    throw;
                }
            })
            .AddHandler("test:approval", async (context, cancellationToken) =>
            {
                var approval = await context.WaitForSignalAsync("approved", TimeSpan.FromHours(1), cancellationToken);
                context.SetResult(approval ?? "\"timed out\""u8.ToArray());
            })
            .AddHandler("test:steps", async (context, cancellationToken) =>
            {
                await context.RunStepAsync("draft", _ => ValueTask.FromResult(new Dictionary<string, int> { ["words"] = 3 }));
                context.SetResult(await context.WaitForSignalAsync("approved", TimeSpan.FromHours(1), cancellationToken) ?? "null"u8.ToArray());
            })
            .AddHandler<TestNote, TestNoteHandler>()
            .AddHandler<LenientTestNote, TestNoteHandler>()
            .AddApi();
        if (withWorkers)
        {
            conveyor.AddServer(o =>
            {
                o.Concurrency = 4;
                // Long enough that a stall of the loaded CI machine never lets a lease lapse and a job run twice
                // (no test here recovers a lease; counting tests expect each job to run once).
                o.LeaseDuration = TimeSpan.FromSeconds(10);
                o.PollInterval = TimeSpan.FromMilliseconds(50);
                o.ShutdownTimeout = TimeSpan.FromSeconds(1);
                o.RecoverInterval = TimeSpan.FromMilliseconds(100);
                o.PromoteInterval = TimeSpan.FromMilliseconds(100);
            });
        }

        builder.Services.AddOpenApi();
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        // As the server does: errors ASP.NET Core answers itself (404, 405, an exception) are problem+json too.
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapConveyorApi();
        app.MapConveyorHealth();
        app.MapConveyorMetrics();
        app.MapConveyorDashboard();
        app.MapOpenApi();
        testApp = new TestApp(app);
        await app.StartAsync();
        return testApp;
    }

    /// <summary>Stops the host as a signal would (the workers' grace period, then the web server).</summary>
    public Task StopAsync() => _app.StopAsync();

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public async Task<HttpResponseMessage> PostJobAsync(string json, string? key = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = Json(json) };
        Authorize(request, key);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await Client.SendAsync(request);
    }

    /// <summary>POSTs a JSON body to any path, with an API key and an Idempotency-Key when given.</summary>
    public async Task<HttpResponseMessage> PostAsync(string path, string json, string? key = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(json) };
        Authorize(request, key);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await Client.SendAsync(request);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key = null)
    {
        using var request = new HttpRequestMessage(method, path);
        Authorize(request, key);
        return await Client.SendAsync(request);
    }

    /// <summary>Creates a job and returns its id (asserting the 202).</summary>
    public async Task<string> CreateAsync(string type = "test:noop", string? key = null, string extra = "")
    {
        using var response = await PostJobAsync($$"""{"type": "{{type}}", "payload": {"n": 1}{{extra}}}""", key);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("job_id").GetString()!;
    }

    public async Task<JsonElement> GetJobAsync(string jobId, string? key = null)
    {
        using var response = await SendAsync(HttpMethod.Get, "/jobs/" + jobId, key);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Polls the job until its status is one of <paramref name="statuses"/>, or fails after ten seconds.</summary>
    public async Task<JsonElement> WaitForStatusAsync(string jobId, string? key = null, params string[] statuses)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var job = await GetJobAsync(jobId, key);
            if (statuses.Contains(job.GetProperty("status").GetString()))
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} stayed {job.GetProperty("status")}, not {string.Join("/", statuses)}: {job}");
            await Task.Delay(20);
        }
    }

    /// <summary>Every job of the tenant, read from the store (not through the API).</summary>
    public async Task<IReadOnlyList<JobInfo>> StoredJobsAsync(string tenant = TenantId.Default)
    {
        var jobs = new List<JobInfo>();
        string? cursor = null;
        do
        {
            var page = await Store.ListAsync(new JobQuery { Tenant = tenant, Limit = JobQuery.MaxLimit, Cursor = cursor }, CancellationToken.None);
            jobs.AddRange(page.Jobs);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return jobs;
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        try
        {
            await _app.StopAsync();
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync();
    }

    private static void Authorize(HttpRequestMessage request, string? key)
    {
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }
}

/// <summary>The payload of test:note, a job type with a payload class: its payload is checked at enqueue.</summary>
public sealed record TestNote(long NoteId, string? Title) : IJobPayload
{
    public static string JobType => "test:note";
}

/// <summary>The payload of test:lenient, whose type lets unknown properties through.</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip)]
public sealed record LenientTestNote(long NoteId) : IJobPayload
{
    public static string JobType => "test:lenient";
}

internal sealed class TestNoteHandler : IJobHandler<TestNote>, IJobHandler<LenientTestNote>
{
    public Task HandleAsync(TestNote payload, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task HandleAsync(LenientTestNote payload, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
