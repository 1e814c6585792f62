using Conveyor.Server;
using Conveyor.Server.SampleJobs;

// The Conveyor server: the HTTP Jobs API, the workers, health and Prometheus metrics in one process, on SQLite by
// default (Conveyor:Store = sqlite | redis | postgres | memory) at http://127.0.0.1:8080 unless --urls or
// ASPNETCORE_URLS say otherwise.
// appsettings.json is read from the application's own directory, wherever it is started from; relative paths in
// settings (the SQLite file) still resolve against the working directory.
// A setting or an environment that stops the start (a bad value, a misspelt key, an address in use, a store that
// cannot be opened) ends the process with exit code 1 and one line on stderr that says what to change.
WebApplication? app = null;
try
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    SettingsCheck.ThrowIfInvalid(builder.Configuration);
    ServerAddresses.UseDefaultIfNoneConfigured(builder);
    LoopbackHosts.AllowOnlyThoseWithoutKeys(builder);
    HostFilteringProblems.Register(builder.Services);
    StartupLogging.HoldBackHostStartFailureLogs(builder.Logging);
    EscapingConsoleFormatter.Register(builder.Logging);
    JsonLogTimestamps.Register(builder.Services);
    LaterTraceparentVersions.Register(builder.Services);

    // Conveyor:Role = all (default) | api | worker: the API and dashboard, the workers, or both in this process.
    var role = ServerRole.Configured(builder.Configuration);
    role.AddTo(builder.Services.AddConveyor()
        .UseConfiguredStore(builder.Configuration)
        .AddSampleJobs(builder.Configuration));
    builder.Services.AddOpenApi(static o => o
        .AddOperationTransformer((operation, _, _) => SampleJobEndpoints.DescribeNoteId(operation))
        .AddOperationTransformer((operation, context, _) => HostFilteringProblems.Describe(operation, context)));

    if (builder.Configuration.GetValue("Conveyor:Samples:Produce", false))
    {
        builder.Services.AddHostedService<SampleProducer>();
    }

    app = builder.Build();
    app.UseUnroutedAnswerHeaders();
    app.UseExceptionHandler();
    app.UseStatusCodePages();

    // Before routing: a path with a '.' or '..' segment names nothing here, and routing would answer it as another path.
    app.UseConveyorDotSegmentCheck();
    app.UseRouting();

    role.MapEndpoints(app);

    ServerAddresses.PrintWhenStarted(app, role.Endpoints, $"{StoreSelection.Describe(builder.Configuration)}; data directory: {DataDirectory.Resolve(builder.Configuration)}");
    StartupLogging.StartedWhen(app.Lifetime);
    app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
    await app.StartAsync();
}
catch (OperationCanceledException) when (app is not null && app.Lifetime.ApplicationStopping.IsCancellationRequested)
{
    // Ctrl+C or SIGTERM while starting: stop what started, so that jobs already running are handed back to their
    // queues before the services are disposed under them. A stop the server asked for itself is a failed start.
    await app.StopAsync();
    var stoppedBecause = StoppedBecause(app);
    await app.DisposeAsync();
    if (stoppedBecause is not null)
    {
        await Console.Error.WriteLineAsync("error: " + stoppedBecause);
        return 1;
    }

    return 0;
}
catch (Exception e) when (StartupFailure.Describe(e) is { } line)
{
    await Console.Error.WriteLineAsync("error: " + line);
    if (app is not null)
    {
        await app.DisposeAsync();
    }

    return 1;
}

await using (app)
{
    await app.WaitForShutdownAsync();

    // A check that could run only once started stopped the server: a failed start like the others, said on stderr.
    if (StoppedBecause(app) is { } line)
    {
        await Console.Error.WriteLineAsync("error: " + line);
        return 1;
    }
}

return 0;

// The late loopback check (an address only Kestrel knew, bound before it could be checked), or an API without workers
// whose store cannot be opened (the job server's own start throws instead).
static string? StoppedBecause(WebApplication app) =>
    app.Services.GetServices<Microsoft.AspNetCore.Hosting.IStartupFilter>().OfType<Conveyor.AspNetCore.LoopbackGuard>().FirstOrDefault()?.StoppedBecause
    ?? Conveyor.AspNetCore.Hosting.StoreOpenFailure.Reason(app.Services);

/// <summary>The entry point, visible to the tests.</summary>
public partial class Program;
