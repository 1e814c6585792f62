using Notes.Adapters;
using Notes.Api;

var builder = WebApplication.CreateBuilder(args);

// The application (use cases and adapters) as the worker has it; Conveyor only as a client: no AddServer, no handlers.
builder.Services.AddNotes(builder.Configuration);
builder.Services.AddConveyor().UseSqlite();

var app = builder.Build();
app.MapNoteEndpoints();
await app.RunAsync();
