using System.Reflection;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Tests.Server;

/// <summary>
/// A server writes the end of a batch member beside the acknowledgement call in flight when no fetched job waits to start:
/// that end may finish the batch, and its callback should not wait for the call before it.
/// </summary>
public sealed class BatchMemberAcknowledgementTests
{
    [Fact]
    public async Task ABatchMembersEnd_WithNoFetchedJobWaiting_IsWrittenWhileTheCallBeforeItIsStillRunning()
    {
        var holder = new AcknowledgementHolder();
        var store = HoldingStore.Wrap(new InMemoryJobStore(TimeProvider.System), holder);
        await using var server = await ServerHarness.StartAsync(
            store: store,
            configureConveyor: static c => c.AddHandler<AfterHeldCallHandler>(),
            configureServices: s => s.AddSingleton(holder));
        var first = server.Client.CreateJob(new EchoJob("first"));
        var last = server.Client.CreateJob(new AfterHeldCallJob());
        holder.HeldJobId = first.Id;

        await server.Services.GetRequiredService<IWorkflowClient>().StartBatchAsync([first, last]);

        // The first member's call is held until another acknowledgement call starts; the last member ends only once it
        // is held, so its end is written beside it or, without a second writer, only after the hold times out.
        await server.WaitForStateAsync(last.Id, JobState.Succeeded, TimeSpan.FromSeconds(30));
        await server.WaitForStateAsync(first.Id, JobState.Succeeded, TimeSpan.FromSeconds(30));
        Assert.False(holder.TimedOut, "the last member's end waited for the held call");
    }

    internal sealed class AcknowledgementHolder
    {
        public volatile string? HeldJobId;

        public volatile bool TimedOut;

        public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource AnotherCallStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    internal sealed record AfterHeldCallJob : IJobPayload
    {
        public static string JobType => "test:after-held-call";
    }

    internal sealed class AfterHeldCallHandler(AcknowledgementHolder holder) : IJobHandler<AfterHeldCallJob>
    {
        public Task HandleAsync(AfterHeldCallJob payload, JobContext context, CancellationToken cancellationToken) =>
            holder.Held.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Holds an acknowledgement call that carries <see cref="AcknowledgementHolder.HeldJobId"/> until another starts (10 s at most).</summary>
    public class HoldingStore : DispatchProxy
    {
        private IJobStore _inner = null!;
        private AcknowledgementHolder _holder = null!;

        internal static IJobStore Wrap(IJobStore inner, AcknowledgementHolder holder)
        {
            var proxy = Create<IJobStore, HoldingStore>();
            var control = (HoldingStore)(object)proxy;
            control._inner = inner;
            control._holder = holder;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobStore.AcknowledgeManyAsync))
            {
                var acks = (IReadOnlyList<JobAcknowledgement>)args![0]!;
                var token = (CancellationToken)args[1]!;
                return AcknowledgeManyAsync(acks, token);
            }

            if (targetMethod.Name == nameof(IJobStore.AcknowledgeAndTakeReleasedAsync))
            {
                var acks = (IReadOnlyList<JobAcknowledgement>)args![0]!;
                var next = (DequeueRequest)args[1]!;
                var token = (CancellationToken)args[2]!;
                return AcknowledgeAndTakeReleasedAsync(acks, next, token);
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }

        private async ValueTask<int> AcknowledgeManyAsync(IReadOnlyList<JobAcknowledgement> acks, CancellationToken token)
        {
            await HoldAsync(acks);
            return await _inner.AcknowledgeManyAsync(acks, token);
        }

        private async ValueTask<AcknowledgeResult> AcknowledgeAndTakeReleasedAsync(IReadOnlyList<JobAcknowledgement> acks, DequeueRequest next, CancellationToken token)
        {
            await HoldAsync(acks);
            return await _inner.AcknowledgeAndTakeReleasedAsync(acks, next, token);
        }

        private async Task HoldAsync(IReadOnlyList<JobAcknowledgement> acks)
        {
            if (_holder.HeldJobId is { } held && acks.Any(a => a.JobId == held))
            {
                _holder.Held.TrySetResult();
                try
                {
                    await _holder.AnotherCallStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
                }
                catch (TimeoutException)
                {
                    _holder.TimedOut = true;
                }
            }
            else if (_holder.Held.Task.IsCompleted)
            {
                _holder.AnotherCallStarted.TrySetResult();
            }
        }
    }
}
