using Conveyor.Server;
using Conveyor.Server.SampleJobs;

// The Conveyor server: the HTTP Jobs API, the workers, health and Prometheus metrics in one process, on SQLite by
// default (Conveyor:Store = sqlite | redis | postgres | memory) at http://127.0.0.1:8080 unless --urls or
// ASPNETCORE_URLS say otherwise.
// appsettings.json is read from the application's own directory, wherever it is started from; relative paths in
// settings (the SQLite file) still resolve against the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
ServerAddresses.UseDefaultIfNoneConfigured(builder);

// Conveyor:Role = all (default) | api | worker: the API and dashboard, the workers, or both in this process.
var role = ServerRole.Configured(builder.Configuration);
role.AddTo(builder.Services.AddConveyor()
    .UseConfiguredStore(builder.Configuration)
    .AddSampleJobs(builder.Configuration));
builder.Services.AddOpenApi();

if (builder.Configuration.GetValue("Conveyor:Samples:Produce", false))
{
    builder.Services.AddHostedService<SampleProducer>();
}

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();

role.MapEndpoints(app);

ServerAddresses.PrintWhenStarted(app, StoreSelection.Describe(builder.Configuration));
await using (app)
{
    try
    {
        await app.StartAsync();
    }
    catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
    {
        // Ctrl+C or SIGTERM while starting (the workers start before the HTTP server binds): stop what started, so
        // that jobs already running are handed back to their queues before the services are disposed under them.
        await app.StopAsync();
        return 0;
    }

    await app.WaitForShutdownAsync();
}

return 0;

/// <summary>The entry point, visible to the tests.</summary>
public partial class Program;
