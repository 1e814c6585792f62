using System.Collections.Concurrent;
using System.Diagnostics;
using Conveyor.Diagnostics;
using Conveyor.Storage;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Tests.Middleware;

/// <summary>
/// Every enqueue path leaves each job its own caller's trace: the job's processing span is in the trace of the code
/// that created the job and links to the job's creation context (OpenTelemetry messaging conventions).
/// </summary>
public sealed class EnqueueTracingTests : IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;
    private readonly ActivitySource _caller = new("test.caller");

    public EnqueueTracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == ConveyorActivitySource.Name || s.Name == _caller.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task EnqueueAsync_ProcessSpanLinksToThePublishSpan_InTheCallersTrace()
    {
        await using var harness = await ServerHarness.StartAsync();

        EnqueueResult result;
        ActivityTraceId trace;
        using (var request = _caller.StartActivity("request"))
        {
            trace = request!.TraceId;
            result = await harness.Client.EnqueueAsync(new EchoJob("one"));
        }

        var process = await ProcessSpanAsync(harness, result.JobId);
        var publish = Assert.Single(_stopped, a => a.TraceId == trace && a.Kind == ActivityKind.Producer);
        Assert.Equal("send default", publish.DisplayName);
        Assert.Equal(trace, process.TraceId);
        Assert.Equal(publish.SpanId, process.ParentSpanId);
        Assert.Equal(publish.Context.SpanId, Assert.Single(process.Links).Context.SpanId);
    }

    [Fact]
    public async Task EnqueueManyAsync_EachJobsProcessSpanLinksToItsOwnCreateSpan_AndThePublishSpanLinksToThemAll()
    {
        await using var harness = await ServerHarness.StartAsync();

        IReadOnlyList<EnqueueResult> results;
        ActivityTraceId trace;
        using (var request = _caller.StartActivity("request"))
        {
            trace = request!.TraceId;
            results = await harness.Client.EnqueueManyAsync([new EchoJob("a"), new EchoJob("b")]);
        }

        var creates = new List<Activity>();
        foreach (var result in results)
        {
            var process = await ProcessSpanAsync(harness, result.JobId);
            var link = Assert.Single(process.Links).Context;
            var create = Assert.Single(_stopped, a => a.SpanId == link.SpanId);
            Assert.Equal(trace, process.TraceId);
            Assert.Equal(trace, create.TraceId);
            Assert.Equal(ActivityKind.Producer, create.Kind);
            Assert.Equal("create default", create.DisplayName);
            Assert.Equal(result.JobId, create.GetTagItem("messaging.message.id"));
            creates.Add(create);
        }

        Assert.NotEqual(creates[0].SpanId, creates[1].SpanId);
        var publish = Assert.Single(_stopped, a => a.TraceId == trace && a.DisplayName == "send default");
        Assert.Equal(2, publish.GetTagItem("messaging.batch.message_count"));
        Assert.Equal(creates.Select(c => c.SpanId.ToHexString()).Order(), publish.Links.Select(l => l.Context.SpanId.ToHexString()).Order());
    }

    [Fact]
    public async Task EnqueueManyAsync_JobsCreatedInDifferentTraces_EachKeepsItsOwnCreatorsTrace()
    {
        await using var harness = await ServerHarness.StartAsync();

        var traces = new List<ActivityTraceId>();
        var jobs = new List<NewJob>();
        foreach (var text in new[] { "first caller", "second caller" })
        {
            using var request = _caller.StartActivity("request " + text);
            traces.Add(request!.TraceId);
            jobs.Add(harness.Client.CreateJob(new EchoJob(text)));
        }

        IReadOnlyList<EnqueueResult> results;
        ActivityTraceId batchTrace;
        using (var flush = _caller.StartActivity("flush"))
        {
            batchTrace = flush!.TraceId;
            results = await harness.Client.EnqueueManyAsync(jobs);
        }

        for (var i = 0; i < results.Count; i++)
        {
            var process = await ProcessSpanAsync(harness, results[i].JobId);
            Assert.Equal(traces[i], process.TraceId);
            Assert.Equal(traces[i], Assert.Single(process.Links).Context.TraceId);
        }

        var publish = Assert.Single(_stopped, a => a.TraceId == batchTrace && a.DisplayName == "send default");
        Assert.Equal(traces.Select(t => t.ToHexString()).Order(), publish.Links.Select(l => l.Context.TraceId.ToHexString()).Order());
    }

    // A batch (and a workflow, an all-or-none list, an add to a batch) is a write of many jobs, as EnqueueManyAsync's:
    // its own send span links to every job's creation, callbacks included.
    [Fact]
    public async Task StartBatchAsync_HasASendSpanLinkedToEveryJobsCreateSpan_CallbacksIncluded()
    {
        await using var harness = await ServerHarness.StartAsync();
        var workflows = harness.Services.GetRequiredService<IWorkflowClient>();

        BatchEnqueueResult started;
        ActivityTraceId trace;
        using (var request = _caller.StartActivity("request"))
        {
            trace = request!.TraceId;
            started = await workflows.StartBatchAsync(
                [harness.Client.CreateJob(new EchoJob("a")), harness.Client.CreateJob(new EchoJob("b"))],
                new BatchOptions { OnComplete = harness.Client.CreateJob(new EchoJob("done")) });
        }

        var send = Assert.Single(_stopped, a => a.TraceId == trace && a.DisplayName == "send default");
        Assert.Equal(3, send.GetTagItem("messaging.batch.message_count"));
        var creates = _stopped.Where(a => a.TraceId == trace && a.DisplayName == "create default").ToList();
        Assert.Equal(3, creates.Count);
        Assert.Equal(creates.Select(c => c.SpanId.ToHexString()).Order(), send.Links.Select(l => l.Context.SpanId.ToHexString()).Order());
        Assert.True(started.Created);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _caller.Dispose();
    }

    private async Task<Activity> ProcessSpanAsync(ServerHarness harness, string jobId)
    {
        await harness.WaitForStateAsync(jobId, JobState.Succeeded);
        Activity? process = null;
        await Eventually.HoldsAsync(
            () => (process = _stopped.FirstOrDefault(a => a.Kind == ActivityKind.Consumer && (string?)a.GetTagItem("messaging.message.id") == jobId)) is not null,
            because: "the processing span of " + jobId + " ends");
        return process!;
    }
}
