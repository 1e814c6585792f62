using Notes.Adapters;
using Notes.Adapters.Jobs;

var builder = Host.CreateApplicationBuilder(args);

// The same application as the API, plus the job handlers and the server that runs them.
builder.Services.AddNotes(builder.Configuration);
builder.Services.AddConveyor()
    .UseSqlite()
    .AddNoteJobs()
    .AddServer();

await builder.Build().RunAsync();
