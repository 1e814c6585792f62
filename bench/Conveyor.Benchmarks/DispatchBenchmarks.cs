using BenchmarkDotNet.Attributes;
using Conveyor.Server;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Benchmarks;

/// <summary>
/// One job through what a worker does around the handler: the Processor (scope, JobContext, limits) and the stock
/// middleware chain (recovery, tracing, metrics, logging) down to the typed invoker (deserialise, resolve, call),
/// built by DI exactly as AddServer() wires it. No store round trip: the LeasedJob is handed in.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private ServiceProvider _services = null!;
    private Processor _processor = null!;
    private LeasedJob _job = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddConveyor().UseInMemoryStore().AddHandler<SampleHandler>().AddServer();
        _services = services.BuildServiceProvider();
        _processor = _services.GetRequiredService<Processor>();
        var payload = _services.GetRequiredService<JobPayloadSerializer>().Serialize(SampleJob.Create(1));
        var now = DateTimeOffset.UtcNow;
        _job = new LeasedJob
        {
            Id = "job-1",
            Type = SampleJob.JobType,
            Queue = QueueName.Default,
            Tenant = TenantId.Default,
            Payload = payload,
            Attempt = 1,
            MaxRetry = 3,
            LeaseToken = 1,
            LeaseExpiresAt = now.AddMinutes(5),
            CreatedAt = now,
            EnqueuedAt = now,
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark]
    public Task<JobAcknowledgement?> ProcessOneJob() => _processor.ProcessAsync(new RunningJob(_job), CancellationToken.None);
}
