using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conveyor.Diagnostics;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// <c>POST /jobs</c> goes through the enqueue batcher, whose loop runs outside any request: each job must still be
/// processed in the trace of the request that created it, and no batch may land in another request's trace.
/// </summary>
public sealed class CreateJobTracingTests
{
    [Fact]
    public async Task Post_TwoRequestsInDifferentTraces_EachJobIsProcessedInItsOwnRequestsTrace_ShowsItsTraceId_AndNoBatchJoinsTheFirstRequest()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is ConveyorActivitySource.Name or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var app = await TestApp.StartAsync(withWorkers: true);

        var traces = new[] { ActivityTraceId.CreateRandom(), ActivityTraceId.CreateRandom() };
        var ids = new List<string>();
        foreach (var trace in traces)
        {
            // One request after the other: the first starts the batcher, the second goes through the loop it started.
            using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = TestApp.Json("""{"type": "test:noop"}""") };
            request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
            using var response = await app.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!);
        }

        for (var i = 0; i < ids.Count; i++)
        {
            var done = await app.WaitForStatusAsync(ids[i], statuses: "SUCCESS");
            Assert.Equal(traces[i].ToHexString(), done.GetProperty("trace_id").GetString());
            var process = await EventuallyAsync(() => stopped.FirstOrDefault(a => a.Kind == ActivityKind.Consumer && (string?)a.GetTagItem("messaging.message.id") == ids[i]));
            Assert.Equal(traces[i], process.TraceId);
            var creation = Assert.Single(process.Links).Context;
            Assert.Equal(traces[i], creation.TraceId);
            var create = Assert.Single(stopped, a => a.SpanId == creation.SpanId);
            Assert.Equal(ActivityKind.Producer, create.Kind);
            Assert.Equal(ids[i], create.GetTagItem("messaging.message.id"));

            var publish = Assert.Single(stopped, a => a.DisplayName == "send default" && a.Links.Any(l => l.Context.SpanId == creation.SpanId));
            Assert.DoesNotContain(publish.TraceId, traces);
            Assert.Equal(default, publish.ParentSpanId);
        }
    }

    private static async Task<Activity> EventuallyAsync(Func<Activity?> find)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (find() is { } found)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, "the processing span did not end");
            await Task.Delay(10);
        }
    }
}
