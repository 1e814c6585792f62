using Conveyor.Server.SampleJobs;

// The Conveyor worker host: workers on the configured store (SQLite by default, no set-up) with the sample jobs.
var builder = Host.CreateApplicationBuilder(args);

builder.Services.AddConveyor()
    .UseConfiguredStore(builder.Configuration)
    .AddSampleJobs()
    .AddServer();

if (builder.Configuration.GetValue("Conveyor:Samples:Produce", false))
{
    builder.Services.AddHostedService<SampleProducer>();
}

using var host = builder.Build();
await host.RunAsync();

/// <summary>The entry point, visible to the end-to-end tests.</summary>
public partial class Program;
