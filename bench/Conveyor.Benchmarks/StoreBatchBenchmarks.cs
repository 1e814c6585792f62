using BenchmarkDotNet.Attributes;
using Conveyor.Sqlite;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;

namespace Conveyor.Benchmarks;

/// <summary>
/// The store's batch calls as the client and the server use them: EnqueueMany of a batch, and the whole cycle
/// EnqueueMany + Dequeue(limit = batch) + AcknowledgeMany(succeeded). Results are per job (OperationsPerInvoke),
/// so Dequeue + AcknowledgeMany per job is roughly Cycle minus EnqueueMany.
/// </summary>
[MemoryDiagnoser]
public class StoreBatchBenchmarks
{
    private const int Batch = 500;
    private IJobStore _store = null!;
    private string? _directory;
    private NewJob _template = null!;
    private DequeueRequest _dequeue = null!;

    [Params("memory", "sqlite")]
    public string Store { get; set; } = "memory";

    [GlobalSetup]
    public async Task Setup()
    {
        if (Store == "sqlite")
        {
            _directory = Directory.CreateTempSubdirectory("conveyor-benchmarks-").FullName;
            _store = new SqliteJobStore(new SqliteStoreOptions { Path = Path.Combine(_directory, "bench.db") }, TimeProvider.System);
        }
        else
        {
            _store = new InMemoryJobStore(TimeProvider.System);
        }

        await _store.InitializeAsync(CancellationToken.None);
        _template = new NewJob
        {
            Id = "template",
            Type = SampleJob.JobType,
            Queue = "bench",
            Tenant = TenantId.Default,
            Payload = new JobPayloadSerializer(Microsoft.Extensions.Options.Options.Create(new ConveyorJsonOptions())).Serialize(SampleJob.Create(1)),
            MaxRetry = 3,
            Retention = TimeSpan.FromMinutes(10),
        };
        _dequeue = new DequeueRequest
        {
            Queues = [new QueueQuota("bench", Batch)],
            Limit = Batch,
            ServerId = "bench-server",
            LeaseDuration = TimeSpan.FromMinutes(5),
        };
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        switch (_store)
        {
            case IAsyncDisposable a: await a.DisposeAsync(); break;
            case IDisposable d: d.Dispose(); break;
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task EnqueueDequeueAcknowledge()
    {
        await _store.EnqueueManyAsync(NewBatch(), CancellationToken.None);
        await DrainAsync();
    }

    /// <summary>EnqueueMany alone: the queue grows by a batch per invocation (as it does while producers outrun workers).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task EnqueueMany()
    {
        await _store.EnqueueManyAsync(NewBatch(), CancellationToken.None);
    }

    private NewJob[] NewBatch()
    {
        var jobs = new NewJob[Batch];
        for (var i = 0; i < jobs.Length; i++)
        {
            jobs[i] = _template with { Id = JobId.New() };
        }

        return jobs;
    }

    private async Task DrainAsync()
    {
        var leased = await _store.DequeueAsync(_dequeue, CancellationToken.None);
        var acks = new JobAcknowledgement[leased.Count];
        for (var i = 0; i < acks.Length; i++)
        {
            acks[i] = new JobAcknowledgement { JobId = leased[i].Id, LeaseToken = leased[i].LeaseToken, Outcome = AckOutcome.Succeeded };
        }

        await _store.AcknowledgeManyAsync(acks, CancellationToken.None);
    }
}
