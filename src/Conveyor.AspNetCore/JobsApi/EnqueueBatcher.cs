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
/// <remarks>
/// Each queue has a lane of its own, with at most one write in flight: a write that hangs (a Redis Cluster primary that
/// froze holds its slots' scripts until the client's timeout) holds back the creates of its queue only, and its failure
/// is theirs only. With one lane for every queue, a frozen primary failed the creates of every queue for as long as the
/// client kept sending to it (each batch waited its 5 s and answered 503 whole, jobs stored on healthy primaries
/// included). A lane lives while it has jobs waiting or a write in flight, and at most
/// <see cref="MaxWritesInFlight"/> lanes write at once.
/// </remarks>
internal sealed class EnqueueBatcher : IAsyncDisposable
{
    /// <summary>
    /// Most lanes writing at once. Creates to many queues at once (a queue per tenant) would otherwise make as many
    /// writes, each a pooled PostgreSQL connection that workers need too; past it, lanes wait their turn and their
    /// jobs keep gathering, as one lane's do behind its write in flight.
    /// </summary>
    internal const int MaxWritesInFlight = 16;

    private readonly IJobClient _client;
    private readonly int _batchSize;
    private readonly SemaphoreSlim _writes = new(MaxWritesInFlight, MaxWritesInFlight);

    // The lanes and whether the batcher still takes jobs; a lane's loop takes its jobs and ends under this lock too, so a
    // job added to a lane is always seen by its loop.
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private bool _disposed;
    private int _waiting;

    public EnqueueBatcher(IJobClient client, IOptions<ConveyorApiOptions> options)
    {
        _client = client;
        _batchSize = options.Value.EnqueueBatchSize;
    }

    /// <summary>
    /// The job's result once its batch is stored. <paramref name="cancellationToken"/> ends the wait: a job still waiting
    /// for its batch then is never stored; one whose batch is being written may still be.
    /// </summary>
    public async Task<EnqueueResult> EnqueueAsync(NewJob job, CancellationToken cancellationToken)
    {
        var pending = new PendingEnqueue(job);
        lock (_lock)
        {
            if (_disposed)
            {
                throw new ObjectDisposedException(nameof(EnqueueBatcher), "The application is stopping.");
            }

            if (!_lanes.TryGetValue(job.Queue, out var lane))
            {
                lane = new Lane(job.Queue);
                _lanes.Add(job.Queue, lane);
                // A lane is started inside a request: without this its loop would keep that request's ExecutionContext,
                // and with it its Activity, so every later batch of the lane would join the first caller's trace.
                using (ExecutionContext.SuppressFlow())
                {
                    lane.Loop = Task.Run(() => RunAsync(lane));
                }
            }

            lane.Jobs.Enqueue(pending);
            _waiting++;
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

    /// <summary>The jobs in the lanes, not yet taken into a batch (abandoned ones too, until their lane passes them).</summary>
    internal int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task[] loops;
        lock (_lock)
        {
            _disposed = true;
            loops = [.. _lanes.Values.Select(static lane => lane.Loop!)];
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    private async Task RunAsync(Lane lane)
    {
        var batch = new List<PendingEnqueue>();
        var jobs = new List<NewJob>();
        while (true)
        {
            // The turn comes before the jobs are taken: a request that stops waiting meanwhile leaves nothing stored.
            await _writes.WaitAsync().ConfigureAwait(false);
            try
            {
                batch.Clear();
                jobs.Clear();
                lock (_lock)
                {
                    while (batch.Count < _batchSize && lane.Jobs.TryDequeue(out var pending))
                    {
                        _waiting--;
                        if (pending.TryTake())
                        {
                            batch.Add(pending);
                            jobs.Add(pending.Job);
                        }
                    }

                    if (batch.Count == 0)
                    {
                        _lanes.Remove(lane.Queue);
                        return;
                    }
                }

                await WriteAsync(batch, jobs).ConfigureAwait(false);
            }
            finally
            {
                _writes.Release();
            }
        }
    }

    private async Task WriteAsync(List<PendingEnqueue> batch, List<NewJob> jobs)
    {
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

    /// <summary>A queue's jobs waiting for its next batch, and the loop that writes them.</summary>
    private sealed class Lane(string queue)
    {
        public string Queue { get; } = queue;

        public Queue<PendingEnqueue> Jobs { get; } = new();

        public Task? Loop { get; set; }
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
