using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conveyor.Cli.Tests;

/// <summary>
/// A Conveyor server (the Jobs API over the in-memory store, no workers, so jobs stay where the tests put them) on an
/// in-process test server, and the tool run against it with captured output.
/// </summary>
internal sealed class CliServer : IAsyncDisposable
{
    public const string TenantKey = "key-of-tenant-a-0123456789";
    public const string AdminKey = "key-of-the-admin-0123456789";

    private readonly WebApplication _app;

    private CliServer(WebApplication app) => _app = app;

    public IJobClient Jobs => _app.Services.GetRequiredService<IJobClient>();

    public IServiceProvider Services => _app.Services;

    public Conveyor.Storage.IJobStore Store => _app.Services.GetRequiredService<Conveyor.Storage.IJobStore>();

    /// <summary>
    /// Sees each answer of the server to the tool (the request, the answer) and gives the one the tool gets instead: a
    /// test makes the server fail (a 503 from a frozen store) after it did its work, or cancels the run.
    /// </summary>
    public Func<HttpRequestMessage, HttpResponseMessage, HttpResponseMessage>? Answer { get; set; }

    /// <summary>The address of the Kestrel server (<c>kestrel: true</c>), for the tool run as a process.</summary>
    public Uri Address => new(_app.Urls.First());

    public static async Task<CliServer> StartAsync(bool kestrel = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        if (kestrel)
        {
            builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conveyor:Api:Keys:0:Key"] = TenantKey,
            ["Conveyor:Api:Keys:0:Tenant"] = "tenant-a",
            ["Conveyor:Api:Keys:1:Key"] = AdminKey,
            ["Conveyor:Api:Keys:1:Tenant"] = "tenant-a",
            ["Conveyor:Api:Keys:1:Admin"] = "true",
        });
        builder.Services.AddConveyor()
            .UseInMemoryStore()
            .AddHandler("note:archive", (_, _) => Task.CompletedTask)
            .AddHandler("report:generate", (_, _) => Task.CompletedTask)
            .AddApi();
        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapConveyorApi();
        await app.StartAsync();
        return new CliServer(app);
    }

    /// <summary>Runs <c>conveyor</c> with <paramref name="args"/> (and the admin key unless the args give one) against this server.</summary>
    public async Task<CliRun> RunAsync(params string[] args) => await RunWithInputAsync("", args);

    public async Task<CliRun> RunWithInputAsync(string input, params string[] args) => await RunAsync(input, width: null, args);

    /// <summary>Runs <c>conveyor</c> as in a terminal <paramref name="width"/> columns wide.</summary>
    public async Task<CliRun> RunAtWidthAsync(int width, params string[] args) => await RunAsync("", width, args);

    /// <summary>Runs <c>conveyor</c> until it exits by itself or <paramref name="cancellationToken"/> is cancelled (Ctrl+C).</summary>
    public async Task<CliRun> RunUntilCancelledAsync(CancellationToken cancellationToken, params string[] args) => await RunAsync("", width: null, args, cancellationToken);

    private async Task<CliRun> RunAsync(string input, int? width, string[] args, CancellationToken cancellationToken = default)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var variables = new Dictionary<string, string?>
        {
            ["CONVEYOR_URL"] = "http://localhost",
            ["CONVEYOR_API_KEY"] = AdminKey,
            ["CONVEYOR_CLI_CONFIG"] = "/nonexistent/conveyor-cli.json",
        };
        var environment = new CliEnvironment(output, error, new StringReader(input), name => variables.GetValueOrDefault(name), new AnsweringHandler(this, _app.GetTestServer().CreateHandler()), width);
        var exitCode = await CliApplication.RunAsync(args, environment, cancellationToken);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>A job of tenant-a on <paramref name="queue"/> failed for good with <paramref name="message"/> as its error, as a worker would leave it.</summary>
    public async Task<string> FailedJobAsync(string queue, string message)
    {
        var enqueued = await Jobs.EnqueueAsync("note:archive", """{"note_id":1}"""u8.ToArray(), new JobOptions { Tenant = "tenant-a", Queue = queue, MaxRetry = 0 });
        var leased = Assert.Single(await Store.DequeueAsync(
            new Conveyor.Storage.DequeueRequest { Queues = [new Conveyor.Storage.QueueQuota(queue, 1)], Limit = 1, ServerId = "test", LeaseDuration = TimeSpan.FromMinutes(1) }, CancellationToken.None));
        Assert.Equal(enqueued.JobId, leased.Id);
        await Store.AcknowledgeManyAsync(
            [new Conveyor.Storage.JobAcknowledgement { JobId = leased.Id, LeaseToken = leased.LeaseToken, Outcome = Conveyor.Storage.AckOutcome.Failed, Error = new JobError(1, message, "System.FormatException", null, DateTimeOffset.UtcNow) }],
            CancellationToken.None);
        return leased.Id;
    }

    /// <summary>A request straight to the API with the admin key (set-up a test needs before it runs the tool).</summary>
    public async Task PostAsync(string path, string json)
    {
        using var client = _app.GetTestClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Sends to the test server and hands its answer to <see cref="CliServer.Answer"/>.</summary>
internal sealed class AnsweringHandler(CliServer server, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        return server.Answer is { } answer ? answer(request, response) : response;
    }
}

/// <summary>What a server answers when its store does not answer in time (ApiProblems.StoreTimedOut).</summary>
internal static class StoreOutage
{
    public static HttpResponseMessage Answer(HttpRequestMessage request) => new(System.Net.HttpStatusCode.ServiceUnavailable)
    {
        RequestMessage = request,
        Content = new StringContent(
            request.Method == HttpMethod.Get
                ? """{"title":"The job store is unavailable.","status":503,"detail":"The redis job store did not answer within 10 s; try again shortly."}"""
                : """{"title":"The job store is unavailable.","status":503,"detail":"The redis job store did not answer within 10 s; try again shortly (a create or a change may have been stored all the same: repeat a create with its Idempotency-Key)."}""",
            System.Text.Encoding.UTF8,
            "application/problem+json"),
    };
}

internal sealed record CliRun(int ExitCode, string Output, string Error);
