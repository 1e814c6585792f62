using Conveyor.Storage;

namespace Conveyor.Idempotency;

/// <summary>
/// Gathers the begins of idempotent attempts that start together into one store call, as the acknowledgements are:
/// whatever arrives while a call is in flight goes in the next one, so an idle server adds no delay and a busy one pays
/// one round trip for many jobs. A failed call fails each of its begins with the store's exception.
/// </summary>
internal sealed class IdempotencyBeginBatcher(IJobStore store)
{
    /// <summary>The most begins in one store call.</summary>
    internal const int MaxBatch = 256;

    private readonly Lock _gate = new();
    private List<(IdempotencyBegin Begin, TaskCompletionSource<IdempotencyBeginResult> Answer)> _pending = [];
    private bool _flushing;

    public Task<IdempotencyBeginResult> BeginAsync(IdempotencyBegin begin, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<IdempotencyBeginResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool startFlush;
        lock (_gate)
        {
            _pending.Add((begin, answer));
            startFlush = !_flushing;
            _flushing = true;
        }

        if (startFlush)
        {
            _ = FlushAsync();
        }

        return answer.Task.WaitAsync(cancellationToken);
    }

    private async Task FlushAsync()
    {
        while (true)
        {
            List<(IdempotencyBegin Begin, TaskCompletionSource<IdempotencyBeginResult> Answer)> batch;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _flushing = false;
                    return;
                }

                if (_pending.Count <= MaxBatch)
                {
                    (batch, _pending) = (_pending, []);
                }
                else
                {
                    batch = _pending[..MaxBatch];
                    _pending.RemoveRange(0, MaxBatch);
                }
            }

            try
            {
                // Not a caller's token: the call serves many attempts; each caller stops waiting on its own token.
                var results = await store.TryBeginIdempotencyKeysAsync(batch.ConvertAll(p => p.Begin), CancellationToken.None).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Answer.TrySetResult(results[i]);
                }
            }
            catch (Exception e)
            {
                foreach (var (_, answer) in batch)
                {
                    answer.TrySetException(e);
                }
            }
        }
    }
}
