using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Tests.Server;

public sealed class ReleasedJobHandOffTests
{
    [Fact]
    public async Task BatchCallback_StartsOnTheServerWhoseAcknowledgementReleasedIt_WithoutAWakeUpOrAPoll()
    {
        // A store whose wake-ups never reach the server and a poll interval far beyond the deadline: the callback can
        // only start in time if the acknowledgement that released it hands it over.
        var store = DeafStore.Wrap(new InMemoryJobStore(TimeProvider.System));
        await using var harness = await ServerHarness.StartAsync(o => o.PollInterval = TimeSpan.FromMinutes(10), store: store);
        var client = harness.Client;
        var workflows = harness.Services.GetRequiredService<IWorkflowClient>();
        var members = Enumerable.Range(0, 3).Select(i => client.CreateJob(new EchoJob($"member {i}"))).ToList();

        var callback = client.CreateJob(new EchoJob("callback"));

        Assert.True((await workflows.StartBatchAsync(members, new BatchOptions { OnSuccess = callback })).Created);

        await harness.WaitForStateAsync(callback.Id, JobState.Succeeded, TimeSpan.FromSeconds(10));
        Assert.Equal(0, harness.Server.HeldJobCount);
    }

    [Fact]
    public async Task Take_NoFreeSlot_HoldsTheJobUntilASlotFrees_ThenStartsIt()
    {
        var held = new HeldJobs();
        var buffer = Channel.CreateBounded<RunningJob>(4);
        using var freeSlots = new SemaphoreSlim(0, 4);
        var handedBack = new List<JobAcknowledgement>();
        var handOff = new ReleasedJobHandOff(freeSlots, held, buffer.Writer, new Dictionary<string, int> { ["default"] = 1 }, "server", TimeSpan.FromSeconds(4),
            enabled: () => true, handedBack.Add, CancellationToken.None);
        var job = Leased("job_1");

        Assert.Null(handOff.Take([job]));
        Assert.True(held.TryGet(job.Id, out _));
        Assert.False(buffer.Reader.TryRead(out _));

        freeSlots.Release();
        var run = await buffer.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(job.Id, run.Job.Id);
        Assert.Empty(handedBack);
    }

    [Fact]
    public async Task Take_NoFreeSlot_ServerStopsMeanwhile_HandsTheJobBack()
    {
        var held = new HeldJobs();
        var buffer = Channel.CreateBounded<RunningJob>(4);
        using var freeSlots = new SemaphoreSlim(0, 4);
        using var stopping = new CancellationTokenSource();
        var handedBack = new TaskCompletionSource<JobAcknowledgement>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handOff = new ReleasedJobHandOff(freeSlots, held, buffer.Writer, new Dictionary<string, int> { ["default"] = 1 }, "server", TimeSpan.FromSeconds(4),
            enabled: () => true, ack => handedBack.TrySetResult(ack), stopping.Token);
        var job = Leased("job_1");

        Assert.Null(handOff.Take([job]));
        await stopping.CancelAsync();

        var ack = await handedBack.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((job.Id, job.LeaseToken, AckOutcome.Released, false), (ack.JobId, ack.LeaseToken, ack.Outcome, ack.AttemptRan));
        Assert.False(buffer.Reader.TryRead(out _));
    }

    [Fact]
    public void Take_FreeSlot_GoesToTheWorkers_AndTheRequestAsksForAsManyJobsAsThereAreFreeSlots()
    {
        var held = new HeldJobs();
        var buffer = Channel.CreateBounded<RunningJob>(4);
        using var freeSlots = new SemaphoreSlim(3, 4);
        var queues = new Dictionary<string, int> { ["low"] = 1, ["critical"] = 6, ["default"] = 3 };
        var handOff = new ReleasedJobHandOff(freeSlots, held, buffer.Writer, queues, "server", TimeSpan.FromSeconds(4), enabled: () => true, static _ => { }, CancellationToken.None);

        var request = handOff.NextRequest()!;
        Assert.Equal(3, request.Limit);
        Assert.Equal(["critical", "default", "low"], request.Queues.Select(static q => q.Queue));
        Assert.Null(handOff.Take([Leased("job_1")]));

        Assert.True(buffer.Reader.TryRead(out var run));
        Assert.Equal("job_1", run.Job.Id);
        Assert.Equal(2, freeSlots.CurrentCount);
    }

    [Fact]
    public void TwoCallsInFlight_DoNotBothAskForTheFreeSlots_UntilTheFirstIsAnswered()
    {
        using var freeSlots = new SemaphoreSlim(3, 4);
        var handOff = new ReleasedJobHandOff(freeSlots, new HeldJobs(), Channel.CreateBounded<RunningJob>(4).Writer,
            new Dictionary<string, int> { ["default"] = 1 }, "server", TimeSpan.FromSeconds(4), enabled: () => true, static _ => { }, CancellationToken.None);

        var first = handOff.NextRequest()!;
        var second = handOff.NextRequest()!;
        Assert.Equal((3, 1), (first.Limit, second.Limit));

        handOff.Answered(first);
        handOff.Answered(second);
        Assert.Equal(3, handOff.NextRequest()!.Limit);
    }

    [Fact]
    public void NextRequest_WhileDisabled_IsNull_AndALeasedJobIsHandedBack()
    {
        var held = new HeldJobs();
        var buffer = Channel.CreateBounded<RunningJob>(4);
        using var freeSlots = new SemaphoreSlim(4, 4);
        var handOff = new ReleasedJobHandOff(freeSlots, held, buffer.Writer, new Dictionary<string, int> { ["default"] = 1 }, "server", TimeSpan.FromSeconds(4), enabled: () => false, static _ => { }, CancellationToken.None);

        Assert.Null(handOff.NextRequest());
        Assert.Single(handOff.Take([Leased("job_1")])!);
        Assert.Equal(4, freeSlots.CurrentCount);
    }

    private static LeasedJob Leased(string id) => new()
    {
        Id = id,
        Type = "test:echo",
        Queue = "default",
        Tenant = TenantId.Default,
        Payload = "{}"u8.ToArray(),
        Attempt = 1,
        MaxRetry = 3,
        LeaseToken = 7,
        LeaseExpiresAt = DateTimeOffset.UnixEpoch,
        CreatedAt = DateTimeOffset.UnixEpoch,
        EnqueuedAt = DateTimeOffset.UnixEpoch,
    };

    /// <summary>Forwards every call to the store it wraps, except that <see cref="IJobQueueStore.WaitForJobsAsync"/> always waits out its timeout.</summary>
    internal class DeafStore : DispatchProxy
    {
        private IJobStore _inner = null!;

        public static IJobStore Wrap(IJobStore inner)
        {
            var proxy = Create<IJobStore, DeafStore>();
            ((DeafStore)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IJobStore.WaitForJobsAsync))
            {
                return WaitOutAsync((TimeSpan)args![0]!, (CancellationToken)args[1]!);
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is { } inner)
            {
                ExceptionDispatchInfo.Capture(inner).Throw();
                throw;
            }
        }

        private static async ValueTask<bool> WaitOutAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            await Task.Delay(timeout, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            return false;
        }
    }
}
