using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.StatsApi.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Conveyor.AspNetCore.StatsApi;

/// <summary>
/// <c>GET /stats/throughput?minutes=5</c>: processed, failed and enqueued per bucket over the last 1 to 60 minutes, from
/// this process (<see cref="ThroughputRecorder"/>). Admin keys only: the meter counts every tenant's jobs together.
/// </summary>
internal static class StatsEndpoints
{
    public const int DefaultMinutes = 5;
    public const int MaxMinutes = ThroughputRecorder.RetainedSeconds / 60;

    /// <summary>The most buckets one answer has; the bucket is the smallest of these divisors of a minute that keeps within it.</summary>
    public const int MaxBuckets = 300;

    private static readonly int[] BucketSizes = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];

    public static void Map(IEndpointRouteBuilder group) =>
        group.MapGet("/stats/throughput", Throughput).WithName("GetThroughput").TakesQuery("minutes")
            .AddEndpointFilter<AdminEndpointFilter>()
            .WithSummary("Jobs processed, failed and enqueued per bucket over the last 1 to 60 minutes (minutes=5 by default), counted by this server process (admin keys only)")
            .ProducesProblem(StatusCodes.Status403Forbidden);

    public static int BucketSecondsFor(int minutes) => BucketSizes.First(size => minutes * 60 / size <= MaxBuckets);

    internal static Results<Ok<ThroughputResponse>, ValidationProblem> Throughput(HttpContext http, ThroughputRecorder recorder)
    {
        var minutes = DefaultMinutes;
        foreach (var (name, values) in http.Request.Query)
        {
            if (name != "minutes")
            {
                return ApiProblems.Invalid(name, "is not a query parameter of this endpoint; it takes: minutes.");
            }

            if (values.Count != 1 || !ListQueryRules.TryReadWholeNumber(values[0] ?? "", out minutes) || minutes is < 1 or > MaxMinutes)
            {
                return ApiProblems.Invalid(name, $"'{JobFilterParser.Shorten(string.Join(",", values.ToArray()))}' is not a number of minutes: use a whole number from 1 to {MaxMinutes}.");
            }
        }

        var bucketSeconds = BucketSecondsFor(minutes);
        var buckets = recorder.Read(minutes, bucketSeconds)
            .Select(static b => new ThroughputBucketResponse(Rfc3339.Format(b.At), b.Processed, b.Failed, b.Enqueued))
            .ToList();
        return TypedResults.Ok(new ThroughputResponse(bucketSeconds, buckets));
    }
}
