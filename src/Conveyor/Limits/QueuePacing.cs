using Conveyor.Storage;

namespace Conveyor.Limits;

/// <summary>
/// The served queues a queue-wide rate limit (no job type, not per tenant: every job of the queue needs its permit)
/// holds back on this server. Once the store refuses a start of such a queue, the server leases none of its jobs until
/// the store's next turn; then, while the limit keeps being reached, at most the limit's burst at a time, and the next
/// lease not before the turns of the jobs leased. So a queue whose backlog outruns its limit is paced by the fetcher,
/// its jobs waiting queued, instead of being leased and handed back whole at every turn.
/// </summary>
internal sealed class QueuePacing
{
    /// <summary>How long after its next turn a paced queue stays paced unless refused or leased again.</summary>
    internal static readonly TimeSpan PacedFor = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Pace> _queues = new(StringComparer.Ordinal);

    /// <summary>
    /// A start of <paramref name="queue"/> was refused until <paramref name="until"/> by a queue-wide limit of one permit
    /// every <paramref name="interval"/> and <paramref name="burst"/> at once: no lease of its jobs before then, and
    /// while paced at most the burst at a time.
    /// </summary>
    public void Refused(string queue, DateTimeOffset until, TimeSpan interval, int burst, DateTimeOffset now)
    {
        lock (_lock)
        {
            var pace = _queues.GetValueOrDefault(queue);
            var paced = pace.PacedUntil > now;
            var resumeAt = Max(pace.ResumeAt, until);
            _queues[queue] = new Pace(
                resumeAt,
                Max(resumeAt, now) + PacedFor,
                paced ? Math.Min(pace.Share, burst) : burst,
                paced && pace.Interval > interval ? pace.Interval : interval);
        }
    }

    /// <summary>
    /// A dequeue leased <paramref name="count"/> jobs of a paced <paramref name="queue"/> at its turn: its next lease
    /// waits for the turns they take, and the queue stays paced (its backlog still outruns the limit) unless it
    /// <paramref name="ranShort"/> of jobs: then it is leased as any queue again.
    /// </summary>
    public void Leased(string queue, int count, bool ranShort, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!_queues.TryGetValue(queue, out var pace))
            {
                return;
            }

            if (ranShort)
            {
                _queues.Remove(queue);
                return;
            }

            // From now, not from the turn: the permits are asked for just after the lease, and asking a little before the
            // store's turn would have the jobs refused and handed back (a few percent under the limit, against a third).
            var resumeAt = Max(pace.ResumeAt, now + (pace.Interval * count));
            _queues[queue] = pace with { ResumeAt = resumeAt, PacedUntil = Max(resumeAt, now) + PacedFor };
        }
    }

    /// <summary>
    /// A dequeue of the paced <paramref name="queue"/> failed as unavailable (the other queues are asked all the same):
    /// its next turn is not before <paramref name="retryAt"/>, so that the fetcher does not ask it again at once.
    /// </summary>
    public void Failed(string queue, DateTimeOffset retryAt)
    {
        lock (_lock)
        {
            if (_queues.TryGetValue(queue, out var pace))
            {
                var resumeAt = Max(pace.ResumeAt, retryAt);
                _queues[queue] = pace with { ResumeAt = resumeAt, PacedUntil = Max(pace.PacedUntil, resumeAt + PacedFor) };
            }
        }
    }

    /// <summary>
    /// Splits a dequeue's quotas: the queues leased as usual, and the paced queues whose turn has come, each with at most
    /// its share; a paced queue whose turn has not come is in neither. Null when no queue is paced.
    /// </summary>
    public (List<QueueQuota> Open, List<QueueQuota> Paced)? Split(IReadOnlyList<QueueQuota> quotas, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_queues.Count == 0)
            {
                return null;
            }

            List<QueueQuota> open = new(quotas.Count), paced = [];
            foreach (var quota in quotas)
            {
                if (!_queues.TryGetValue(quota.Queue, out var pace) || pace.PacedUntil <= now)
                {
                    open.Add(quota);
                }
                else if (pace.ResumeAt <= now)
                {
                    paced.Add(quota with { Limit = pace.Share });
                }
            }

            foreach (var (queue, pace) in _queues)
            {
                if (pace.PacedUntil <= now)
                {
                    _queues.Remove(queue);
                }
            }

            return (open, paced);
        }
    }

    /// <summary>
    /// The first paced queue's turn, or null when no queue is paced: a fetcher that finds nothing else to do waits no
    /// longer (a turn already come is leased at once).
    /// </summary>
    public DateTimeOffset? NextTurn(DateTimeOffset now)
    {
        lock (_lock)
        {
            DateTimeOffset? next = null;
            foreach (var pace in _queues.Values)
            {
                if (pace.PacedUntil > now && (next is null || pace.ResumeAt < next))
                {
                    next = pace.ResumeAt;
                }
            }

            return next;
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <param name="ResumeAt">No lease of the queue's jobs before this.</param>
    /// <param name="PacedUntil">Paced until then; afterwards leased as any queue.</param>
    /// <param name="Share">The most of its jobs one dequeue leases while paced: the smallest burst of its queue-wide limits.</param>
    /// <param name="Interval">The time between two permits of its slowest queue-wide limit.</param>
    private readonly record struct Pace(DateTimeOffset ResumeAt, DateTimeOffset PacedUntil, int Share, TimeSpan Interval);
}
