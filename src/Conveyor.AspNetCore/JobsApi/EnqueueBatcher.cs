using System.Threading.Channels;
using Conveyor.Storage;
using Microsoft.Extensions.Options;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Group commit for <c>POST /jobs</c>: requests that arrive while a write is in flight are stored together in the
/// next round trip (<see cref="IJobClient.EnqueueManyAsync(IReadOnlyList{NewJob}, CancellationToken)"/>), so one
/// SQLite transaction or one Redis pipeline carries many jobs under load, and a lone request waits for nothing.
/// Each job is still refused or stored on its own, and each request gets its own result only once its job is stored.
/// </summary>
internal sealed class EnqueueBatcher : IAsyncDisposable
{
    private readonly Channel<PendingEnqueue> _channel = Channel.CreateUnbounded<PendingEnqueue>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IJobClient _client;
    private readonly int _batchSize;
    private readonly Task _loop;

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

    public Task<EnqueueResult> EnqueueAsync(NewJob job)
    {
        var pending = new PendingEnqueue(job, new TaskCompletionSource<EnqueueResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_channel.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(EnqueueBatcher), "The application is stopping.");
        }

        return pending.Completion.Task;
    }

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
                batch.Add(pending);
                jobs.Add(pending.Job);
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

    private sealed record PendingEnqueue(NewJob Job, TaskCompletionSource<EnqueueResult> Completion);
}
