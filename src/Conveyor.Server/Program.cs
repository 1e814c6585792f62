using Conveyor.Server;
using Conveyor.Server.SampleJobs;

// The Conveyor server: the HTTP Jobs API, the workers, health and Prometheus metrics in one process, on SQLite by
// default (Conveyor:Store = sqlite | redis | postgres | memory) at http://127.0.0.1:8080 unless --urls or
// ASPNETCORE_URLS say otherwise.
var builder = WebApplication.CreateBuilder(args);
ServerAddresses.UseDefaultIfNoneConfigured(builder);

builder.Services.AddConveyor()
    .UseConfiguredStore(builder.Configuration)
    .AddSampleJobs(builder.Configuration)
    .AddApi()
    .AddServer();
builder.Services.AddOpenApi();

if (builder.Configuration.GetValue("Conveyor:Samples:Produce", false))
{
    builder.Services.AddHostedService<SampleProducer>();
}

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapConveyorApi();
app.MapConveyorHealth();
app.MapConveyorMetrics();
app.MapConveyorDashboard();
app.MapSampleJobEndpoints();
app.MapOpenApi();

ServerAddresses.PrintWhenStarted(app, StoreSelection.Describe(builder.Configuration));
await app.RunAsync();

/// <summary>The entry point, visible to the tests.</summary>
public partial class Program;
