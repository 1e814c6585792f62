using System.Threading.Channels;
using Conveyor.Storage;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Group commit for <c>POST /jobs</c>: requests that arrive while a write is in flight are stored together in the
/// next round trip (<see cref="IJobClient.EnqueueManyAsync(IReadOnlyList{NewJob}, CancellationToken)"/>), so one
/// SQLite transaction or one Redis pipeline carries many jobs under load, and a lone request waits for nothing.
/// Each job is still refused or stored on its own, and each request gets its own result only once its job is stored.
/// A request that stops waiting (its store timeout, or the client gone) before its job is taken into a batch leaves
/// nothing stored.
/// </summary>
internal sealed class EnqueueBatcher : IAsyncDisposable
{
    private readonly Channel<PendingEnqueue> _channel = Channel.CreateUnbounded<PendingEnqueue>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IJobClient _client;
    private readonly int _batchSize;
    private readonly Task _loop;
    private int _waiting;

    public EnqueueBatcher(IJobClient client, IOptions<ConveyorApiOptions> options)
    {
        _client = client;
        _batchSize = options.Value.EnqueueBatchSize;
        // The batcher is created inside the first request: without this the loop would keep that request's
        // ExecutionContext, and with it its Activity, so every later batch would join the first caller's trace.
        using (ExecutionContext.SuppressFlow())
        {
            _loop = Task.Run(RunAsync);
        }
    }

    /// <summary>
    /// The job's result once its batch is stored. <paramref name="cancellationToken"/> ends the wait: a job still waiting
    /// for its batch then is never stored; one whose batch is being written may still be.
    /// </summary>
    public async Task<EnqueueResult> EnqueueAsync(NewJob job, CancellationToken cancellationToken)
    {
        var pending = new PendingEnqueue(job);
        Interlocked.Increment(ref _waiting);
        if (!_channel.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _waiting);
            throw new ObjectDisposedException(nameof(EnqueueBatcher), "The application is stopping.");
        }

        try
        {
            return await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Not taken into a batch yet: it never will be.
            pending.Abandon();
            throw;
        }
    }

    /// <summary>The jobs in the queue, not yet taken into a batch (abandoned ones too, until the loop passes them).</summary>
    internal int Waiting => Volatile.Read(ref _waiting);

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var batch = new List<PendingEnqueue>(_batchSize);
        var jobs = new List<NewJob>(_batchSize);
        while (await _channel.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            jobs.Clear();
            while (batch.Count < _batchSize && _channel.Reader.TryRead(out var pending))
            {
                Interlocked.Decrement(ref _waiting);
                if (pending.TryTake())
                {
                    batch.Add(pending);
                    jobs.Add(pending.Job);
                }
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                // Not cancelled by any one request: the others of the batch still want their jobs stored.
                var results = await _client.EnqueueManyAsync(jobs, CancellationToken.None).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Completion.TrySetResult(results[i]);
                }
            }
            catch (Exception e) when (e is not JobStoreUnavailableException && batch.Count > 1)
            {
                // One job the store refused (rather than a store that is down) must not fail the others of its batch.
                foreach (var pending in batch)
                {
                    await EnqueueAloneAsync(pending).ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetException(e);
                }
            }
        }
    }

    private async Task EnqueueAloneAsync(PendingEnqueue pending)
    {
        try
        {
            var results = await _client.EnqueueManyAsync([pending.Job], CancellationToken.None).ConfigureAwait(false);
            pending.Completion.TrySetResult(results[0]);
        }
        catch (Exception e)
        {
            pending.Completion.TrySetException(e);
        }
    }

    /// <summary>A request's job in the queue: taken into a batch, or abandoned by its request first (then never stored).</summary>
    private sealed class PendingEnqueue(NewJob job)
    {
        private const int Queued = 0;
        private const int Taken = 1;
        private const int Abandoned = 2;
        private int _state;

        public NewJob Job { get; } = job;

        public TaskCompletionSource<EnqueueResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;

        public void Abandon() => Interlocked.CompareExchange(ref _state, Abandoned, Queued);
    }
}
