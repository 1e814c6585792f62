using System.Net;
using System.Reflection;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Conveyor.AspNetCore.Tests;

public sealed class EnqueueBatcherTests
{
    [Fact]
    public async Task JobTheStoreRefuses_FailsAlone_AndTheOthersOfItsBatchAreStored()
    {
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?> { ["RateLimit:Enabled"] = "false" },
            services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>(sp => PickyStore.Create(new InMemoryJobStore(TimeProvider.System)))));

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            app.PostJobAsync(i % 10 == 0 ? """{"type": "test:noop", "payload": "poison"}""" : """{"type": "test:noop"}""")));

        Assert.Equal(36, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(4, responses.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        Assert.Equal(36, (await app.StoredJobsAsync()).Count);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task CreatesOfOneQueue_WhoseStoreWriteHangs_DoNotHoldBackTheCreatesOfOtherQueues()
    {
        var store = HangingQueueStore.Create(new InMemoryJobStore(TimeProvider.System), "stuck");
        var hanging = (HangingQueueStore)(object)store;
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?> { ["RateLimit:Enabled"] = "false" },
            services: s => s.Replace(ServiceDescriptor.Singleton(typeof(IJobStore), store)));
        try
        {
            // A Redis Cluster primary that froze holds the scripts of its slots until the client's timeout.
            var stuck = app.PostJobAsync("""{"type": "test:noop", "queue": "stuck"}""");
            await hanging.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

            var others = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
                app.PostJobAsync($$"""{"type": "test:noop", "queue": "{{(i % 2 == 0 ? "default" : "other")}}"}"""))).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.All(others, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            Assert.False(stuck.IsCompleted);

            hanging.Release.TrySetResult();
            using var late = await stuck.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(HttpStatusCode.Accepted, late.StatusCode);
            Assert.Equal(11, (await app.StoredJobsAsync()).Count);
            foreach (var response in others)
            {
                response.Dispose();
            }
        }
        finally
        {
            hanging.Release.TrySetResult();
        }
    }

    [Fact]
    public async Task CreatesToManyQueuesAtOnce_MakeAtMostSixteenWritesAtATime_AndAreAllStored()
    {
        var store = HangingQueueStore.Create(new InMemoryJobStore(TimeProvider.System), queue: null);
        var hanging = (HangingQueueStore)(object)store;
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?> { ["RateLimit:Enabled"] = "false" },
            services: s => s.Replace(ServiceDescriptor.Singleton(typeof(IJobStore), store)));
        try
        {
            var posts = Enumerable.Range(0, 40).Select(i => app.PostJobAsync($$"""{"type": "test:noop", "queue": "tenant-{{i}}"}""")).ToList();
            await StoreOutageTests.WaitUntilAsync(() => hanging.InFlight == Conveyor.AspNetCore.JobsApi.EnqueueBatcher.MaxWritesInFlight);
            var batcher = app.Services.GetRequiredService<Conveyor.AspNetCore.JobsApi.EnqueueBatcher>();
            await StoreOutageTests.WaitUntilAsync(() => batcher.Waiting == 40 - Conveyor.AspNetCore.JobsApi.EnqueueBatcher.MaxWritesInFlight);

            hanging.Release.TrySetResult();
            var responses = await Task.WhenAll(posts).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            Assert.Equal(Conveyor.AspNetCore.JobsApi.EnqueueBatcher.MaxWritesInFlight, hanging.MostInFlight);
            Assert.Equal(40, (await app.StoredJobsAsync()).Count);
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
        finally
        {
            hanging.Release.TrySetResult();
        }
    }

    /// <summary>A store whose enqueues of one queue (of every queue when it is null) wait until <see cref="Release"/>.</summary>
    public class HangingQueueStore : DispatchProxy
    {
        private IJobStore _inner = null!;
        private string? _queue;
        private int _inFlight;
        private int _mostInFlight;

        public int InFlight => Volatile.Read(ref _inFlight);

        public int MostInFlight => Volatile.Read(ref _mostInFlight);

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static IJobStore Create(IJobStore inner, string? queue)
        {
            var proxy = Create<IJobStore, HangingQueueStore>();
            ((HangingQueueStore)(object)proxy)._inner = inner;
            ((HangingQueueStore)(object)proxy)._queue = queue;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name is nameof(IJobStore.EnqueueManyAsync)
                && ((IReadOnlyList<NewJob>)args![0]!).Any(j => _queue is null || j.Queue == _queue))
            {
                return new ValueTask<IReadOnlyList<EnqueueResult>>(HoldThenEnqueueAsync((IReadOnlyList<NewJob>)args[0]!));
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

        private async Task<IReadOnlyList<EnqueueResult>> HoldThenEnqueueAsync(IReadOnlyList<NewJob> jobs)
        {
            var now = Interlocked.Increment(ref _inFlight);
            for (var most = Volatile.Read(ref _mostInFlight); now > most; most = Volatile.Read(ref _mostInFlight))
            {
                Interlocked.CompareExchange(ref _mostInFlight, now, most);
            }

            Entered.TrySetResult();
            try
            {
                await Release.Task;
                return await _inner.EnqueueManyAsync(jobs, CancellationToken.None);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    /// <summary>A store that refuses, as a store may, any batch holding a job whose payload is "poison".</summary>
    public class PickyStore : DispatchProxy
    {
        private IJobStore _inner = null!;

        public static IJobStore Create(IJobStore inner)
        {
            var proxy = Create<IJobStore, PickyStore>();
            ((PickyStore)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name is nameof(IJobStore.EnqueueManyAsync)
                && ((IReadOnlyList<NewJob>)args![0]!).Any(j => System.Text.Encoding.UTF8.GetString(j.Payload.Span) == "\"poison\""))
            {
                throw new ArgumentException("The store refuses poison.", "jobs");
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
    }
}
