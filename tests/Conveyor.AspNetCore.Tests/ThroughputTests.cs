using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Conveyor.AspNetCore.StatsApi;
using Conveyor.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.AspNetCore.Tests;

/// <summary>GET /stats/throughput and the ring behind it.</summary>
public sealed class ThroughputTests
{
    private static (ThroughputRecorder Recorder, Counter<long> Processed, Counter<long> Enqueued, ServiceProvider Services) Recorder(FakeTimeProvider time)
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var metrics = new ConveyorMetrics(factory);
        var recorder = new ThroughputRecorder(factory, metrics, time);
        var meter = factory.Create(ConveyorMetrics.MeterName);
        return (recorder, meter.CreateCounter<long>("job_processed_total"), meter.CreateCounter<long>("job_enqueued_total"), services);
    }

    [Fact]
    public void Ring_CountsEachSecondIntoItsBucket_AndForgetsWhatIsOlderThanAnHour()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var (recorder, processed, enqueued, services) = Recorder(time);
        using (services)
        using (recorder)
        {
            enqueued.Add(5);
            processed.Add(3, new KeyValuePair<string, object?>("status", "success"));
            processed.Add(1, new KeyValuePair<string, object?>("status", "failed"));
            processed.Add(7, new KeyValuePair<string, object?>("status", "released"));
            processed.Add(9, new KeyValuePair<string, object?>("status", "snoozed"));
            time.Advance(TimeSpan.FromSeconds(2));
            processed.Add(2, new KeyValuePair<string, object?>("status", "cancelled"));

            var buckets = recorder.Read(1, 1);

            Assert.Equal(60, buckets.Count);
            Assert.Equal(time.GetUtcNow(), buckets[^1].At);
            Assert.Equal(new ThroughputBucket(time.GetUtcNow().AddSeconds(-2), 4, 1, 5), buckets[^3]);
            Assert.Equal(2, buckets[^1].Processed);
            Assert.Equal(6, buckets.Sum(b => b.Processed));

            var coarse = recorder.Read(60, 12);
            Assert.Equal(300, coarse.Count);
            Assert.Equal(6, coarse.Sum(b => b.Processed));

            time.Advance(TimeSpan.FromHours(1));
            Assert.Equal(0, recorder.Read(60, 12).Sum(b => b.Processed + b.Enqueued));
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 1)]
    [InlineData(6, 2)]
    [InlineData(31, 10)]
    [InlineData(60, 12)]
    public void BucketSize_KeepsAnAnswerWithinThreeHundredBuckets(int minutes, int seconds)
    {
        Assert.Equal(seconds, StatsEndpoints.BucketSecondsFor(minutes));
        Assert.Equal(0, minutes * 60 % seconds);
    }

    [Fact]
    public async Task Endpoint_CountsTheJobsThisServerEnqueuedAndProcessed()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var ok = await app.CreateAsync();
        var bad = await app.CreateAsync("test:fail");
        await app.WaitForStatusAsync(ok, null, "SUCCESS");
        await app.WaitForStatusAsync(bad, null, "FAILED");

        using var response = await app.SendAsync(HttpMethod.Get, "/stats/throughput?minutes=5");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, body.GetProperty("bucket_seconds").GetInt32());
        var buckets = body.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(300, buckets.Count);
        Assert.Equal(2, buckets.Sum(b => b.GetProperty("enqueued").GetInt64()));
        Assert.Equal(2, buckets.Sum(b => b.GetProperty("processed").GetInt64()));
        Assert.Equal(1, buckets.Sum(b => b.GetProperty("failed").GetInt64()));
        Assert.EndsWith("Z", buckets[0].GetProperty("at").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("minutes=0")]
    [InlineData("minutes=61")]
    [InlineData("minutes=five")]
    [InlineData("hours=1")]
    public async Task BadQuery_Is400NamingTheParameter(string query)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, "/stats/throughput?" + query);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, query.Split('=')[0]);
    }
}
