using System.Collections.Concurrent;
using System.Reflection;
using Conveyor.Idempotency;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Idempotency;

/// <summary>The begins of attempts that start together share one store call; a failed call fails each of its begins.</summary>
public sealed class IdempotencyBeginBatcherTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private static IdempotencyBegin Begin(int i) => new($"payment:order-{i}", new LeaseRef($"job_{i:D32}", 1), Start.AddSeconds(4));

    [Fact]
    public async Task BeginsArrivingWhileACallIsInFlight_GoTogetherInTheNextCall()
    {
        var (store, control) = GatedBeginStore.Wrap(new InMemoryJobStore(new FakeTimeProvider(Start)));
        var batcher = new IdempotencyBeginBatcher(store);

        var first = batcher.BeginAsync(Begin(0), CancellationToken.None);
        await Eventually.HoldsAsync(() => control.CallSizes.Count == 1);
        var more = Enumerable.Range(1, 20).Select(i => batcher.BeginAsync(Begin(i), CancellationToken.None)).ToList();
        control.Gate.SetResult();

        Assert.Equal(IdempotencyBeginResult.Started, await first);
        Assert.All(await Task.WhenAll(more), r => Assert.Equal(IdempotencyBeginResult.Started, r));
        Assert.Equal([1, 20], control.CallSizes);
    }

    [Fact]
    public async Task StoreUnavailable_EachBeginOfThatCallGetsTheException_TheNextCallWorks()
    {
        var (store, control) = GatedBeginStore.Wrap(new InMemoryJobStore(new FakeTimeProvider(Start)));
        control.Gate.SetResult();
        control.FailNext = true;
        var batcher = new IdempotencyBeginBatcher(store);

        await Assert.ThrowsAsync<JobStoreUnavailableException>(() => batcher.BeginAsync(Begin(1), CancellationToken.None));

        Assert.Equal(IdempotencyBeginResult.Started, await batcher.BeginAsync(Begin(1), CancellationToken.None));
    }

    [Fact]
    public async Task ACallerThatStopsWaiting_DoesNotStopTheOthers()
    {
        var (store, control) = GatedBeginStore.Wrap(new InMemoryJobStore(new FakeTimeProvider(Start)));
        var batcher = new IdempotencyBeginBatcher(store);
        using var cancel = new CancellationTokenSource();

        var cancelled = batcher.BeginAsync(Begin(1), cancel.Token);
        var other = batcher.BeginAsync(Begin(2), CancellationToken.None);
        await cancel.CancelAsync();
        control.Gate.SetResult();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(IdempotencyBeginResult.Started, await other);
    }
}

/// <summary>Wraps a store: its batch begin waits for <see cref="Gate"/>, records each call's size, and can fail once.</summary>
public class GatedBeginStore : DispatchProxy
{
    private IJobStore _inner = null!;

    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<int> CallSizes { get; } = new();

    public bool FailNext { get; set; }

    public static (IJobStore Store, GatedBeginStore Control) Wrap(IJobStore inner)
    {
        var proxy = Create<IJobStore, GatedBeginStore>();
        var control = (GatedBeginStore)(object)proxy;
        control._inner = inner;
        return (proxy, control);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IJobStore.TryBeginIdempotencyKeysAsync))
        {
            return GatedAsync((IReadOnlyList<IdempotencyBegin>)args![0]!);
        }

        return targetMethod.Invoke(_inner, args);
    }

    private async ValueTask<IReadOnlyList<IdempotencyBeginResult>> GatedAsync(IReadOnlyList<IdempotencyBegin> begins)
    {
        CallSizes.Enqueue(begins.Count);
        await Gate.Task;
        if (FailNext)
        {
            FailNext = false;
            throw new JobStoreUnavailableException("the store went away");
        }

        return await _inner.TryBeginIdempotencyKeysAsync(begins, CancellationToken.None);
    }
}
