using System.Reflection;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// A store that refuses one acknowledgement (an error other than "unavailable": a workflow cascade beyond its limits, a
/// defect) must not stop a server from storing every other one, in the same batch or in later ones.
/// </summary>
public sealed class AcknowledgementRefusalTests
{
    [Fact]
    public async Task AnAcknowledgementTheStoreRefuses_DoesNotHoldBackItsBatchOrLaterOnes_AndIsStoredOnceTheStoreTakesIt()
    {
        var inner = new InMemoryJobStore(TimeProvider.System);
        var (store, control) = RefusingStore.Wrap(inner);
        var held = new HeldJobs();
        var leased = await LeasedJobs.EnqueueAndLeaseAsync(inner, 6);
        foreach (var job in leased)
        {
            held.Add(new RunningJob(job));
        }

        var refused = leased[2];
        control.RefusedJobId = refused.Id;
        var logs = new CapturingLoggerProvider();
        var time = new FakeTimeProvider();
        var batcher = new AcknowledgementBatcher(store, held, new JobReadySignal(), batchSize: 100, time, logs.CreateLogger("test"));

        // Five in the first batch (added before the batcher runs, so they are written together), one later.
        foreach (var job in leased.Take(5))
        {
            batcher.Add(Succeeded(job));
        }

        var running = batcher.RunAsync(CancellationToken.None);
        await Eventually.HoldsAsync(() => held.Count == 2, because: "the refused acknowledgement's four batch mates to be stored");
        batcher.Add(Succeeded(leased[5]));
        await Eventually.HoldsAsync(() => held.Count == 1, because: "a later batch to be stored while one acknowledgement is refused");

        foreach (var job in leased.Where(j => j.Id != refused.Id))
        {
            Assert.Equal(JobState.Succeeded, (await inner.GetAsync(TenantId.Default, job.Id, CancellationToken.None))!.State);
        }

        Assert.Equal(JobState.Active, (await inner.GetAsync(TenantId.Default, refused.Id, CancellationToken.None))!.State);
        Assert.True(held.TryGet(refused.Id, out _), "the refused job stays held, so its lease keeps being extended");
        Assert.True(control.LargestRefusedBatch > 1, "the first batch held the refused acknowledgement with others");
        var line = Assert.Single(logs.Entries, e => e.EventId.Id == 15);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Equal(refused.Id, line.OwnFields["job_id"]);

        // Retried in the background and refused again: not a line per retry.
        var callsBefore = control.RefusedCalls;
        await Eventually.HoldsAsync(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return control.RefusedCalls >= callsBefore + 2;
            },
            because: "the refused acknowledgement to be retried twice");
        Assert.Single(logs.Entries, e => e.EventId.Id == 15);

        control.RefusedJobId = null;
        await Eventually.HoldsAsync(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return held.Count == 0;
            },
            because: "the refused acknowledgement to be retried alone");
        Assert.Equal(JobState.Succeeded, (await inner.GetAsync(TenantId.Default, refused.Id, CancellationToken.None))!.State);
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AnAcknowledgementStillRefusedAtStop_IsGivenUpWhenTheServerAbandons_LeavingItsJobToTheRecoverer()
    {
        var (inner, control, held, batcher, job) = await OneRefusedAsync();
        using var abandon = new CancellationTokenSource();
        batcher.Complete();

        var running = batcher.RunAsync(abandon.Token);
        await Eventually.HoldsAsync(() => control.RefusedCalls >= 2, because: "the refused acknowledgement to be retried");
        Assert.False(running.IsCompleted, "the batcher waits for what it could not store yet");

        await abandon.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(JobState.Active, (await inner.GetAsync(TenantId.Default, job.Id, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task ARefusedAcknowledgementStoredLate_LeavesALaterLeaseOfItsJobHeld()
    {
        var (inner, control, held, batcher, job) = await OneRefusedAsync();
        var running = batcher.RunAsync(CancellationToken.None);
        await Eventually.HoldsAsync(() => control.RefusedCalls >= 1, because: "the acknowledgement to be refused");

        // Meanwhile this server holds the job under another lease (its first was lost and it leased it again).
        var again = job with { LeaseToken = job.LeaseToken + 1 };
        held.Add(new RunningJob(again));
        control.RefusedJobId = null;
        await Eventually.HoldsAsync(async () => (await inner.GetAsync(TenantId.Default, job.Id, CancellationToken.None))!.State == JobState.Succeeded,
            because: "the refused acknowledgement to be stored");
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(held.TryGet(job.Id, out var still), "the later lease stays held, so its lease keeps being extended");
        Assert.Equal(again.LeaseToken, still.Job.LeaseToken);
    }

    /// <summary>One held job whose acknowledgement, added to a batcher not yet running, the store refuses.</summary>
    private static async Task<(InMemoryJobStore Inner, RefusingStore Control, HeldJobs Held, AcknowledgementBatcher Batcher, LeasedJob Job)> OneRefusedAsync()
    {
        var inner = new InMemoryJobStore(TimeProvider.System);
        var (store, control) = RefusingStore.Wrap(inner);
        var held = new HeldJobs();
        var job = Assert.Single(await LeasedJobs.EnqueueAndLeaseAsync(inner, 1));
        held.Add(new RunningJob(job));
        control.RefusedJobId = job.Id;
        var batcher = new AcknowledgementBatcher(store, held, new JobReadySignal(), batchSize: 100, TimeProvider.System, new CapturingLoggerProvider().CreateLogger("test"));
        batcher.Add(Succeeded(job));
        return (inner, control, held, batcher, job);
    }

    private static JobAcknowledgement Succeeded(LeasedJob job) =>
        new() { JobId = job.Id, LeaseToken = job.LeaseToken, Outcome = AckOutcome.Succeeded };

    /// <summary>Refuses, with an error that is not "unavailable", every acknowledgement call that holds <see cref="RefusedJobId"/>.</summary>
    public class RefusingStore : DispatchProxy
    {
        private IJobStore _inner = null!;
        private int _refusedCalls;
        private int _largestRefusedBatch;

        public volatile string? RefusedJobId;

        public int RefusedCalls => Volatile.Read(ref _refusedCalls);

        public int LargestRefusedBatch => Volatile.Read(ref _largestRefusedBatch);

        public static (IJobStore Store, RefusingStore Control) Wrap(IJobStore inner)
        {
            var proxy = Create<IJobStore, RefusingStore>();
            var control = (RefusingStore)(object)proxy;
            control._inner = inner;
            return (proxy, control);
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name is nameof(IJobStore.AcknowledgeManyAsync) or nameof(IJobStore.AcknowledgeAndTakeReleasedAsync)
                && args![0] is IReadOnlyList<JobAcknowledgement> acks && RefusedJobId is { } refused && acks.Any(a => a.JobId == refused))
            {
                Interlocked.Increment(ref _refusedCalls);
                InterlockedMax(ref _largestRefusedBatch, acks.Count);
                throw new InvalidOperationException("the store cannot store this acknowledgement");
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

        private static void InterlockedMax(ref int location, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref location)) < value && Interlocked.CompareExchange(ref location, value, seen) != seen)
            {
            }
        }
    }
}
