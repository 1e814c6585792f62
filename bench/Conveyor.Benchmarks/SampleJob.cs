using System.Text.Json.Serialization;

namespace Conveyor.Benchmarks;

/// <summary>A payload the size of a typical job: a few ids and a short string.</summary>
public sealed record SampleJob(
    [property: JsonPropertyName("t")] double T,
    long OrderId,
    string CustomerEmail,
    int Attempts) : IJobPayload
{
    public static string JobType => "bench:sample";

    public static SampleJob Create(int i) => new(1_763_800_000_000.123 + i, 4_200_000 + i, "customer@example.com", 3);
}

/// <summary>Does nothing, so that what is measured is the engine around it.</summary>
public sealed class SampleHandler : IJobHandler<SampleJob>
{
    public Task HandleAsync(SampleJob payload, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
