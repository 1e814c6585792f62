using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Options;

namespace Conveyor.Benchmarks;

/// <summary>JobPayloadSerializer, as the client (serialise) and the typed invoker (deserialise) use it per job.</summary>
[MemoryDiagnoser]
public class SerializationBenchmarks
{
    private readonly JobPayloadSerializer _serializer = new(Options.Create(new ConveyorJsonOptions()));
    private readonly SampleJob _job = SampleJob.Create(1);
    private byte[] _json = [];

    [GlobalSetup]
    public void Setup() => _json = _serializer.Serialize(_job);

    [Benchmark]
    public byte[] Serialize() => _serializer.Serialize(_job);

    [Benchmark]
    public SampleJob? Deserialize() => _serializer.Deserialize<SampleJob>(_json);
}
