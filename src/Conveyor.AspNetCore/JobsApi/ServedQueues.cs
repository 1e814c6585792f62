using System.Collections.Frozen;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// The queues that live servers serve, from the server registry (<see cref="IJobCoordinationStore.ListServersAsync"/>),
/// read at most every <see cref="CacheFor"/> so that a create costs no extra round trip. <c>POST /jobs</c> warns when a
/// job goes to a queue no live server serves: it is accepted, and waits until such a server starts.
/// </summary>
internal sealed class ServedQueues(IJobStore store, TimeProvider timeProvider)
{
    /// <summary>How long one read of the registry is used; a server beats every 5 s and expires after 15 s anyway.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(2);

    /// <summary>How long an answer waits for the registry before it goes without warnings.</summary>
    public static readonly TimeSpan ReadFor = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long an earlier read is answered with while a newer one has not come back: as long as a server's entry lives
    /// after its last beat.
    /// </summary>
    public static readonly TimeSpan StaleFor = TimeSpan.FromSeconds(15);

    private readonly Lock _lock = new();
    private (FrozenSet<string>? Queues, DateTimeOffset ReadAt)? _answer;
    private (Task<FrozenSet<string>?> Queues, DateTimeOffset StartedAt)? _reading;

    /// <summary>A warning for the caller when no live server serves <paramref name="queue"/>; null when one does, or when the registry cannot be read.</summary>
    public async ValueTask<string?> WarningForAsync(string queue)
    {
        var served = await ServedAsync().ConfigureAwait(false);
        return served is null || served.Contains(queue)
            ? null
            : served.Count == 0
                ? $"No server is running: the job waits in queue '{queue}' until a server that serves it starts."
                : $"No running server serves queue '{queue}' (they serve: {string.Join(", ", served.Order(StringComparer.Ordinal))}); the job waits until a server that serves it starts.";
    }

    /// <summary>
    /// The warnings for the jobs of one request (a batch, an add to one, a workflow): one per queue among
    /// <paramref name="queues"/> that no live server serves, in name order; null when there is none or the registry cannot
    /// be read.
    /// </summary>
    public async ValueTask<IReadOnlyList<string>?> WarningsForAsync(IEnumerable<string> queues)
    {
        var served = await ServedAsync().ConfigureAwait(false);
        if (served is null)
        {
            return null;
        }

        var warnings = queues.Where(q => !served.Contains(q)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(q => served.Count == 0
                ? $"No server is running: the request's jobs in queue '{q}' wait until a server that serves it starts."
                : $"No running server serves queue '{q}' (they serve: {string.Join(", ", served.Order(StringComparer.Ordinal))}); the request's jobs in it wait until a server that serves it starts.")
            .ToList();
        return warnings.Count == 0 ? null : warnings;
    }

    /// <summary>
    /// The queues served, or null when the registry cannot be read within <see cref="ReadFor"/>: the jobs are stored
    /// already, and a warning is not worth holding their answer. While a read is under way, an earlier answer (younger
    /// than <see cref="StaleFor"/>) is used at once; without one, answers wait for the read only until it has taken
    /// <see cref="ReadFor"/>, so a registry that hangs (its node frozen) delays the first answers by up to that, not every one.
    /// </summary>
    private async Task<FrozenSet<string>?> ServedAsync()
    {
        var now = timeProvider.GetUtcNow();
        Task<FrozenSet<string>?> read;
        TimeSpan wait;
        lock (_lock)
        {
            if (_answer is { } fresh && now - fresh.ReadAt < CacheFor)
            {
                return fresh.Queues;
            }

            if (_reading is null)
            {
                _reading = (ReadAndKeepAsync(now), now);
            }

            if (_answer is { } stale && now - stale.ReadAt < StaleFor)
            {
                return stale.Queues;
            }

            read = _reading.Value.Queues;
            wait = ReadFor - (now - _reading.Value.StartedAt);
        }

        if (wait <= TimeSpan.Zero)
        {
            return null;
        }

        try
        {
            return await read.WaitAsync(wait, timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private async Task<FrozenSet<string>?> ReadAndKeepAsync(DateTimeOffset now)
    {
        // Off the caller's lock: the read's end clears _reading, which the caller sets once this returns.
        await Task.Yield();
        try
        {
            var queues = await ReadAsync(now).ConfigureAwait(false);
            lock (_lock)
            {
                _answer = (queues, now);
            }

            return queues;
        }
        finally
        {
            lock (_lock)
            {
                _reading = null;
            }
        }
    }

    private async Task<FrozenSet<string>?> ReadAsync(DateTimeOffset now)
    {
        try
        {
            var servers = await store.ListServersAsync(CancellationToken.None).ConfigureAwait(false);
            return servers.Where(s => s.ExpiresAt > now).SelectMany(s => s.Queues.Keys).ToFrozenSet(StringComparer.Ordinal);
        }
#pragma warning disable CA1031 // The jobs of the request are stored already: no failure of this read may turn their answer into an error.
        catch (Exception)
#pragma warning restore CA1031
        {
            // The enqueue itself said whether the store answers; a registry that cannot be read warns of nothing. A read
            // that a request did not wait for is observed here too.
            return null;
        }
    }
}
