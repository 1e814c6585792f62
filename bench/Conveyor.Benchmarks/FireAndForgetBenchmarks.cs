using BenchmarkDotNet.Attributes;
using Conveyor.Client.FireAndForget;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Benchmarks;

/// <summary>
/// What a fire-and-forget call costs its caller: the checks, the payload's serialisation and the write of one struct
/// into the bounded buffer (no tracer listening). Each invocation makes <see cref="Calls"/> calls from one thread and
/// then takes them out of the buffer as the pump would (a struct copy each, included in the figure), so the buffer
/// never fills and no call takes the cheaper drop path. <see cref="SerializeOnly"/> is the payload's own cost: the
/// difference is what fire-and-forget adds.
/// </summary>
[MemoryDiagnoser]
public class FireAndForgetBenchmarks
{
    private const int Calls = 1000;
    private ServiceProvider _services = null!;
    private IFireAndForget _fireAndForget = null!;
    private FireAndForgetBuffer _buffer = null!;
    private JobPayloadSerializer _serializer = null!;
    private SampleJob _payload = null!;
    private JobOptions _options = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddConveyor().UseInMemoryStore().AddFireAndForget(o => o.BufferCapacity = Calls);
        _services = services.BuildServiceProvider();
        _fireAndForget = _services.GetRequiredService<IFireAndForget>();
        _buffer = _services.GetRequiredService<FireAndForgetBuffer>();
        _serializer = _services.GetRequiredService<JobPayloadSerializer>();
        _payload = SampleJob.Create(1);
        _options = new JobOptions { Queue = QueueName.Default, MaxRetry = 3 };
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(OperationsPerInvoke = Calls, Baseline = true)]
    public int SerializeOnly()
    {
        var length = 0;
        for (var i = 0; i < Calls; i++)
        {
            length += _serializer.Serialize(_payload).Length;
        }

        return length;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public async Task FireAndForget()
    {
        for (var i = 0; i < Calls; i++)
        {
            await _fireAndForget.EnqueueAsync(_payload);
        }

        Drain();
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public async Task FireAndForgetWithOptions()
    {
        for (var i = 0; i < Calls; i++)
        {
            await _fireAndForget.EnqueueAsync(_payload, _options);
        }

        Drain();
    }

    private void Drain()
    {
        var reader = _buffer.Reader;
        var taken = 0;
        while (reader.TryRead(out _))
        {
            taken++;
        }

        if (taken != Calls)
        {
            throw new InvalidOperationException($"{Calls - taken} calls did not reach the buffer");
        }
    }
}
