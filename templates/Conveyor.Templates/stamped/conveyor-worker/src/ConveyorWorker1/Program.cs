using ConveyorWorker1.Jobs;

var builder = Host.CreateApplicationBuilder(args);

// The store's settings come from the Conveyor section of appsettings.json (or environment variables such as
// Conveyor__Server__Concurrency); the handlers' own dependencies are ordinary services.
builder.Services.AddSingleton<IWelcomeEmails, LoggedWelcomeEmails>();
builder.Services.AddConveyor()
#if (store == "redis")
    .UseRedis()
#elif (store == "postgres")
    .UsePostgres()
#else
    .UseSqlite()
#endif
    .AddJobs()
    .AddServer();

await builder.Build().RunAsync();
