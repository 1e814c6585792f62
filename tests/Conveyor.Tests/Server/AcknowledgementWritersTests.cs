using System.Collections.Concurrent;
using System.Reflection;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;

namespace Conveyor.Tests.Server;

/// <summary>
/// The end of a batch member may finish its batch and start its callback: it does not wait for the acknowledgement call
/// in flight. Plain jobs keep one call at a time.
/// </summary>
public sealed class AcknowledgementWritersTests
{
    [Fact]
    public async Task AnEndAddedBesideTheCallInFlight_IsWrittenWhileItRuns_WithThePlainEndsWaitingThere()
    {
        var (store, gate, held, leased) = await GatedAsync(3);
        var batcher = new AcknowledgementBatcher(store, held, new JobReadySignal(), batchSize: 100, TimeProvider.System,
            new CapturingLoggerProvider().CreateLogger("test"));
        var running = batcher.RunAsync(CancellationToken.None);

        batcher.Add(Succeeded(leased[0]));
        await Eventually.HoldsAsync(() => gate.Calls.Count == 1, because: "the first acknowledgement's call to start");

        // The first call is held open: a plain end waits for it, a member's end starts a second call with it.
        batcher.Add(Succeeded(leased[1]));
        batcher.Add(Succeeded(leased[2]), besideCallInFlight: true);
        await Eventually.HoldsAsync(() => gate.Calls.Count == 2, because: "the member's end to be written beside the call in flight");
        Assert.Equal(new[] { leased[1].Id, leased[2].Id }.Order(), gate.Calls.ToArray()[1].Order());

        gate.Open();
        await Eventually.HoldsAsync(() => held.Count == 0, because: "both calls to be stored");
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, gate.Calls.Count);
    }

    [Fact]
    public async Task PlainEnds_WaitForTheCallInFlight_AndGoTogetherInTheNext()
    {
        var (store, gate, held, leased) = await GatedAsync(4);
        var batcher = new AcknowledgementBatcher(store, held, new JobReadySignal(), batchSize: 100, TimeProvider.System,
            new CapturingLoggerProvider().CreateLogger("test"));
        var running = batcher.RunAsync(CancellationToken.None);

        batcher.Add(Succeeded(leased[0]));
        await Eventually.HoldsAsync(() => gate.Calls.Count == 1, because: "the first acknowledgement's call to start");
        foreach (var job in leased.Skip(1))
        {
            batcher.Add(Succeeded(job));
        }

        // Nothing woke a second writer: still the one call.
        Assert.Single(gate.Calls);
        gate.Open();
        await Eventually.HoldsAsync(() => held.Count == 0, because: "every acknowledgement to be stored");
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, gate.Calls.Count);
        Assert.Equal(leased.Skip(1).Select(j => j.Id).Order(), gate.Calls.ToArray()[1].Order());
    }

    private static JobAcknowledgement Succeeded(LeasedJob job) =>
        new() { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Succeeded };

    /// <summary>An in-memory store behind a gate, with <paramref name="count"/> jobs leased and held.</summary>
    private static async Task<(IJobStore Store, GatedAcknowledgements Gate, HeldJobs Held, IReadOnlyList<LeasedJob> Leased)> GatedAsync(int count)
    {
        var inner = new InMemoryJobStore(TimeProvider.System);
        var leased = await LeasedJobs.EnqueueAndLeaseAsync(inner, count);
        var held = new HeldJobs();
        foreach (var job in leased)
        {
            held.Add(new RunningJob(job));
        }

        var (store, gate) = GatedAcknowledgements.Wrap(inner);
        return (store, gate, held, leased);
    }

    /// <summary>Records each acknowledgement call's job ids; every call waits until <see cref="Open"/>.</summary>
    public class GatedAcknowledgements : DispatchProxy
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private IJobStore _inner = null!;

        public ConcurrentQueue<string[]> Calls { get; } = new();

        public static (IJobStore Store, GatedAcknowledgements Gate) Wrap(IJobStore inner)
        {
            var proxy = Create<IJobStore, GatedAcknowledgements>();
            var gate = (GatedAcknowledgements)(object)proxy;
            gate._inner = inner;
            return (proxy, gate);
        }

        public void Open() => _open.TrySetResult();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobStore.AcknowledgeManyAsync) && args![0] is IReadOnlyList<JobAcknowledgement> acks)
            {
                Calls.Enqueue([.. acks.Select(a => a.JobId)]);
                return AcknowledgeWhenOpenAsync([.. acks], (CancellationToken)args[1]!);
            }

            return targetMethod.Invoke(_inner, args);
        }

        private async ValueTask<int> AcknowledgeWhenOpenAsync(JobAcknowledgement[] acks, CancellationToken cancellationToken)
        {
            await _open.Task.WaitAsync(cancellationToken);
            return await _inner.AcknowledgeManyAsync(acks, cancellationToken);
        }
    }
}
