using System.Text.Json.Serialization;

namespace Conveyor.AspNetCore.StatsApi.Contracts;

/// <summary>
/// This server process's throughput over the last minutes, in buckets of <see cref="BucketSeconds"/>, oldest first;
/// the last bucket is the current one, still filling.
/// </summary>
internal sealed record ThroughputResponse(
    [property: JsonPropertyName("bucket_seconds")] int BucketSeconds,
    [property: JsonPropertyName("buckets")] IReadOnlyList<ThroughputBucketResponse> Buckets);

/// <summary>
/// One bucket: attempts finished (<see cref="Processed"/>, every outcome but a hand-back at shutdown), of which
/// <see cref="Failed"/> failed (retried later or failed for good), and jobs <see cref="Enqueued"/>.
/// </summary>
internal sealed record ThroughputBucketResponse(
    [property: JsonPropertyName("at")] string At,
    [property: JsonPropertyName("processed")] long Processed,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("enqueued")] long Enqueued);
