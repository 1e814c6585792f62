using System.Diagnostics;
using System.Text.Json.Serialization;
using Conveyor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// A worker as small as a real one: a host, the SQLite store, one handler registered without reflection
// (AddHandler<TPayload, THandler>) and the payload's source-generated JSON context. It enqueues one job, waits for
// it to be done, and prints how long that took from the start of the process and the process's peak working set.
var database = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "worker.db");
Console.WriteLine("one-argument AddHandler: " + OneArgumentAddHandler());
var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(done);
builder.Services.AddConveyor()
    .UseSqlite(o => o.Path = database)
    .ConfigureJson(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, WorkerJson.Default))
    .AddHandler<Greet, GreetHandler>()
    .AddServer();
using var host = builder.Build();
await host.StartAsync();
await host.Services.GetRequiredService<IJobClient>().EnqueueAsync(new Greet(42, "worker"));
var id = await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
using var self = Process.GetCurrentProcess();
var sinceStart = DateTime.Now - self.StartTime;
Console.WriteLine(FormattableString.Invariant(
    $"worker ran job {id}; first job done {sinceStart.TotalMilliseconds:F0} ms after process start; peak working set {self.PeakWorkingSet64 / (1024.0 * 1024):F1} MiB"));
await host.StopAsync();

// The registration that needs dynamic code, which an application that ignored its IL3050 warning makes: refused by
// name, where it once crashed the process with no output.
[System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050", Justification = "The refusal is what is checked.")]
static string OneArgumentAddHandler()
{
    try
    {
        new ServiceCollection().AddConveyor().AddHandler<GreetHandler>();
        return "registered";
    }
    catch (InvalidOperationException e)
    {
        return e.Message;
    }
}

/// <summary>The job: a payload that names its type.</summary>
public sealed record Greet(long Id, string Name) : IJobPayload
{
    public static string JobType => "worker:greet";
}

/// <summary>Marks the job done for the program above.</summary>
public sealed class GreetHandler(TaskCompletionSource<long> done) : IJobHandler<Greet>
{
    public Task HandleAsync(Greet payload, JobContext context, CancellationToken cancellationToken)
    {
        done.TrySetResult(payload.Id);
        return Task.CompletedTask;
    }
}

/// <summary>The payload's JSON metadata, generated at build time: Native AOT has no reflection-based serializer.</summary>
[JsonSerializable(typeof(Greet))]
internal sealed partial class WorkerJson : JsonSerializerContext;
