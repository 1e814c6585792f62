using Conveyor.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conveyor.Dashboard.Tests;

/// <summary>
/// A real Conveyor API and dashboard on Kestrel (loopback, a free port) over a SQLite file, with an operator key
/// (tenant <c>acme</c>) and a tenant key (tenant <c>globex</c>), and no workers: jobs stay in the states the test
/// put them in until the dashboard changes them. A server started with workers runs the jobs of queue
/// <see cref="ApprovalsQueue"/> only (so that seeded jobs in other queues still stay where they were put).
/// </summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    public const string OperatorKey = "operator-key-0123456789abcdef";
    public const string TenantKey = "globex-key-0123456789abcdef";

    /// <summary>The queue the workers of a server started with workers serve.</summary>
    public const string ApprovalsQueue = "approvals";

    /// <summary>
    /// Stores a step <c>open-case</c> (a result longer than the job page shows in its table), waits up to an hour for
    /// signal <c>approved</c>, then keeps the signal's payload as its result: what the handler received.
    /// </summary>
    public const string ApprovalJobType = "refund:request";

    /// <summary>Waits for signal <c>approved</c> with no time to wait: the wait times out at once and the job succeeds.</summary>
    public const string ExpiringJobType = "refund:expire";

    /// <summary>The inventory <c>GET /inventory</c> answers, as the bundled server's <c>bulk:import</c> sample's.</summary>
    public const string InventoryJson = """[{"sku":"SKU-0001","quantity":3},{"sku":"SKU-0002","quantity":8}]""";

    /// <summary>A job type as long as the API allows (100 characters), with no place a browser could break a line.</summary>
    public static readonly string LongJobType = "ledger.reconciliation_ledger.reconciliation_ledge:" + string.Concat(Enumerable.Repeat("reconcile_every_account_", 3))[..50];

    public const string CaseNote = "Refund of order 42 for a parcel that never arrived; the courier's claim number is on the case.";

    private readonly WebApplication _app;
    private readonly string _directory;

    private DashboardServer(WebApplication app, string directory)
    {
        _app = app;
        _directory = directory;
    }

    public Uri Address => new(_app.Urls.First());

    public string DashboardUrl => new Uri(Address, "/dashboard").ToString();

    public IJobStore Store => _app.Services.GetRequiredService<IJobStore>();

    public static async Task<DashboardServer> StartAsync(bool readOnly = false, bool workers = false)
    {
        var directory = Path.Combine(Path.GetTempPath(), "conveyor-dashboard-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conveyor:Api:Keys:0:Key"] = OperatorKey,
            ["Conveyor:Api:Keys:0:Tenant"] = "acme",
            ["Conveyor:Api:Keys:0:Admin"] = "true",
            ["Conveyor:Api:Keys:1:Key"] = TenantKey,
            ["Conveyor:Api:Keys:1:Tenant"] = "globex",
            ["Conveyor:Api:MaxPageSize"] = "1000",
            ["Conveyor:Api:RateLimit:Enabled"] = "false",
            ["Conveyor:Dashboard:ReadOnly"] = readOnly ? "true" : "false",
        });
        var conveyor = builder.Services.AddConveyor()
            .UseSqlite(options => options.Path = Path.Combine(directory, "conveyor.db"))
            .AddHandler("report:generate", (_, _) => Task.CompletedTask)
            .AddHandler(LongJobType, (_, _) => Task.CompletedTask)
            .AddHandler(ApprovalJobType, async (context, cancellationToken) =>
            {
                await context.RunStepAsync("open-case", _ => ValueTask.FromResult(new Dictionary<string, string> { ["case_id"] = "C-42", ["note"] = CaseNote }));
                context.SetResult(await context.WaitForSignalAsync("approved", TimeSpan.FromHours(1), cancellationToken) ?? "null"u8.ToArray());
            })
            .AddHandler(ExpiringJobType, async (context, cancellationToken) =>
                context.SetResult(await context.WaitForSignalAsync("approved", TimeSpan.Zero, cancellationToken) ?? "\"timed out\""u8.ToArray()))
            .AddApi();
        if (workers)
        {
            conveyor.AddServer(o =>
            {
                o.Queues = new Dictionary<string, int> { [ApprovalsQueue] = 1 };
                o.Concurrency = 2;
                o.PollInterval = TimeSpan.FromMilliseconds(50);
                o.ShutdownTimeout = TimeSpan.FromSeconds(1);
                o.RunScheduler = false;
            });
        }

        var app = builder.Build();
        await app.Services.GetRequiredService<IJobStore>().InitializeAsync(CancellationToken.None);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapConveyorApi();
        app.MapConveyorDashboard();
        MapSampleResults(app);
        await app.StartAsync();
        return new DashboardServer(app, directory);
    }

    /// <summary>
    /// What a job's result_url points at, as the bundled server's samples: <c>/reports/{job_id}.csv</c> (a file, served
    /// only to its job's tenant, under a name of its own) and <c>/inventory</c> (JSON). Both need the API key.
    /// </summary>
    private static void MapSampleResults(WebApplication app)
    {
        var group = app.MapGroup("").RequireConveyorTenant();
        group.MapGet("/reports/{jobId}.csv", async (string jobId, HttpContext http, IJobStore store, CancellationToken cancellationToken) =>
            await store.GetAsync(http.GetConveyorCaller().Tenant, jobId, cancellationToken) is null
                ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such report.", detail: $"There is no finished report '{jobId}' for this API key's tenant.")
                : Results.File(System.Text.Encoding.UTF8.GetBytes(ReportCsv(jobId)), "text/csv", ReportFileName(jobId)));
        group.MapGet("/inventory", () => Results.Text(InventoryJson, "application/json"));
    }

    public static string ReportCsv(string jobId) => $"row,sku,quantity\n1,SKU-0001,3\n2,SKU-0002,8\n# {jobId}\n";

    /// <summary>Not the path's last segment, so a test sees that the name comes from Content-Disposition.</summary>
    public static string ReportFileName(string jobId) => $"report-{jobId}.csv";

    /// <summary>A request straight to the API, with the operator key unless told (set-up a test needs before it opens the page).</summary>
    /// <summary>Enqueues a <c>report:generate</c> job on <paramref name="queue"/>; its id.</summary>
    public async Task<string> EnqueueReportAsync(string queue) =>
        System.Text.Json.JsonDocument.Parse(await SendAsync(HttpMethod.Post, "/jobs", $$$"""{"type":"report:generate","queue":"{{{queue}}}","payload":{"n":1}}"""))
            .RootElement.GetProperty("job_id").GetString()!;

    public async Task<string> SendAsync(HttpMethod method, string path, string? json = null, string key = OperatorKey)
    {
        using var http = new HttpClient { BaseAddress = Address };
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {body}");
        return body;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the store's last connection: the temporary directory is left behind.
        }
    }
}
