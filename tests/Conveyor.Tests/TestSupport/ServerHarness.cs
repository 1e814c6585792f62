using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conveyor.Tests.TestSupport;

/// <summary>A real host running a JobServer on the in-memory store, with short intervals so tests run fast.</summary>
internal sealed class ServerHarness : IAsyncDisposable
{
    private readonly IHost _host;

    private ServerHarness(IHost host)
    {
        _host = host;
    }

    public IServiceProvider Services => _host.Services;

    public IJobClient Client => Services.GetRequiredService<IJobClient>();

    public IJobStore Store => Services.GetRequiredService<IJobStore>();

    public JobRecorder Recorder => Services.GetRequiredService<JobRecorder>();

    public JobServer Server => Services.GetRequiredService<JobServer>();

    public static async Task<ServerHarness> StartAsync(
        Action<JobServerOptions>? configureServer = null,
        Action<IConveyorBuilder>? configureConveyor = null,
        Action<IServiceCollection>? configureServices = null,
        IJobStore? store = null,
        bool start = true)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("CONVEYOR_TEST_LOG") == "1")
        {
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug);
        }
        builder.Services.AddSingleton<JobRecorder>();
        builder.Services.AddScoped<ScopedDependency>();
        var conveyor = builder.Services.AddConveyor();
        if (store is null)
        {
            conveyor.UseInMemoryStore();
        }
        else
        {
            builder.Services.AddSingleton(store);
        }

        conveyor
            .AddHandler<EchoHandler>()
            .AddHandler<FlakyHandler>()
            .AddHandler<SlowHandler>()
            .AddHandler<ImportHandler>()
            .UseRetryPolicy<ImmediateRetryPolicy>()
            .AddServer(o =>
            {
                o.Concurrency = 4;
                o.PollInterval = TimeSpan.FromMilliseconds(50);
                o.PromoteInterval = TimeSpan.FromMilliseconds(50);
                o.RecoverInterval = TimeSpan.FromMilliseconds(100);
                o.LeaseDuration = TimeSpan.FromSeconds(3);
                o.ShutdownTimeout = TimeSpan.FromSeconds(5);
                configureServer?.Invoke(o);
            });
        configureConveyor?.Invoke(conveyor);
        configureServices?.Invoke(builder.Services);
        var host = builder.Build();
        if (start)
        {
            await host.StartAsync();
        }

        return new ServerHarness(host);
    }

    public Task StartHostAsync() => _host.StartAsync();

    public Task StopAsync() => _host.StopAsync();

    public async Task<JobInfo> WaitForStateAsync(string jobId, JobState state, TimeSpan? timeout = null, string tenant = TenantId.Default)
    {
        JobInfo? job = null;
        try
        {
            await Eventually.HoldsAsync(async () => (job = await Store.GetAsync(tenant, jobId, CancellationToken.None))?.State == state, timeout);
        }
        catch (Xunit.Sdk.FailException)
        {
            Assert.Fail($"Job {jobId} did not become {state}: it is {job?.State.ToString() ?? "missing"}, attempt {job?.Attempts}, errors: {string.Join("; ", job?.Errors.Select(e => e.Message) ?? [])}");
        }

        return job!;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>Retries after 10 ms, so retry tests do not wait for real backoff.</summary>
internal sealed class ImmediateRetryPolicy : IRetryPolicy
{
    public TimeSpan GetDelay(RetryDelayArguments arguments) => TimeSpan.FromMilliseconds(10);
}
