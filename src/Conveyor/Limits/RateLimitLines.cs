namespace Conveyor.Limits;

/// <summary>
/// The turns this server gave the jobs that a rate limit on one job type or per tenant refused, one line per limiter
/// key. The store answers every refused job with the same next turn, so jobs snoozed to it all came back together and
/// all but one were refused again: a limit of 10 a second started one job per promotion. Each refused job now gets a
/// turn of its own, one interval after the last one this server gave for the key, and a job that comes back at its turn
/// is known again (<see cref="Returning"/>), so that a few milliseconds of lateness are waited out rather than sending it
/// to the end of the line.
/// </summary>
/// <remarks>
/// One instance serves every gate a server builds as its limits change (<see cref="ServedLimits"/>), so that the
/// jobs waiting for turns of a limit are still known when that limit changes after others did. The lines are this
/// server's alone: another server gives its own refused jobs turns from the same store turn, and
/// where two jobs come back at one turn, one is refused again and takes a later one. A job that another server runs,
/// or that is cancelled, leaves its entry behind until it is an hour past its turn.
/// </remarks>
internal sealed class RateLimitLines
{
    /// <summary>How long after its turn a job that never came back to this server is forgotten.</summary>
    internal static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);

    private const int PurgeAbove = 10_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _lastTurns = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _jobTurns = new(StringComparer.Ordinal);
    // The change (its number) at which each limit's waiting jobs were last taken.
    private readonly Dictionary<string, long> _changedAt = new(StringComparer.Ordinal);
    private long _changes;
    private DateTimeOffset _nextPurge;

    /// <summary>
    /// The changes of the limits so far: a gate built after this many gives turns of the limits in force; one built
    /// before, still deciding for a dequeue that began before the change, gives none of a limit changed since
    /// (<see cref="Take"/>).
    /// </summary>
    public long Changes
    {
        get
        {
            lock (_lock)
            {
                return _changes;
            }
        }
    }

    /// <summary>
    /// The job's turn: the store's next one, or one <paramref name="interval"/> after the last turn given for the key;
    /// null when the key's limit changed after the gate asking was built (<paramref name="gateBuiltAt"/>, its
    /// <see cref="Changes"/>): that turn was given by a rate no longer in force, and the change's
    /// <see cref="TakeWaiting"/> has already run, so a job recorded now would wait for it.
    /// </summary>
    public DateTimeOffset? Take(string key, string jobId, DateTimeOffset storeTurn, TimeSpan interval, DateTimeOffset now, long gateBuiltAt)
    {
        lock (_lock)
        {
            if (ChangedSince(key, gateBuiltAt))
            {
                return null;
            }

            if ((_jobTurns.Count >= PurgeAbove || _lastTurns.Count >= PurgeAbove) && now >= _nextPurge)
            {
                // At most once a minute: a purge reads every entry.
                _nextPurge = now + TimeSpan.FromMinutes(1);
                Purge(now);
            }

            var turn = _lastTurns.TryGetValue(key, out var last) && last + interval > storeTurn ? last + interval : storeTurn;
            _lastTurns[key] = turn;
            _jobTurns[JobKey(key, jobId)] = turn;
            return turn;
        }
    }

    /// <summary>
    /// Records the job's turn at the head of the line (it came back and keeps its place), without moving the line's end;
    /// false, recording nothing, when the key's limit changed after the gate asking was built (as <see cref="Take"/>).
    /// </summary>
    public bool Keep(string key, string jobId, DateTimeOffset turn, long gateBuiltAt)
    {
        lock (_lock)
        {
            if (ChangedSince(key, gateBuiltAt))
            {
                return false;
            }

            _jobTurns[JobKey(key, jobId)] = turn;
            return true;
        }
    }

    private bool ChangedSince(string key, long gateBuiltAt) =>
        _changedAt.TryGetValue(RateLimitRules.NameOf(key).ToString(), out var changedAt) && changedAt > gateBuiltAt;

    /// <summary>
    /// The turn of <paramref name="key"/> this server gave the job, or null (and forgets it): a job with one is coming
    /// back from a wait for its turn.
    /// </summary>
    public DateTimeOffset? Returning(string key, string jobId)
    {
        lock (_lock)
        {
            return _jobTurns.Remove(JobKey(key, jobId), out var turn) ? turn : null;
        }
    }

    /// <summary>
    /// The jobs waiting for a turn still to come in a line of one of <paramref name="limitNames"/>; the lines of those
    /// limits are forgotten: when such a limit is removed or changed, those turns were given by a rate no longer in
    /// force, so the jobs are started again (and asked for permits under what is in force now) rather than left waiting
    /// for them, and the limit's next refused job takes the store's turn rather than one after the old rate's last.
    /// </summary>
    public IReadOnlyList<string> TakeWaiting(IReadOnlySet<string> limitNames, DateTimeOffset now)
    {
        var taken = new List<string>();
        lock (_lock)
        {
            _changes++;
            foreach (var name in limitNames)
            {
                _changedAt[name] = _changes;
            }

            foreach (var (jobKey, turn) in _jobTurns)
            {
                var split = jobKey.IndexOf('\n', StringComparison.Ordinal);
                if (limitNames.Contains(RateLimitRules.NameOf(jobKey.AsSpan(0, split)).ToString()))
                {
                    _jobTurns.Remove(jobKey);
                    if (turn > now)
                    {
                        taken.Add(jobKey[(split + 1)..]);
                    }
                }
            }

            foreach (var key in _lastTurns.Keys)
            {
                if (limitNames.Contains(RateLimitRules.NameOf(key).ToString()))
                {
                    _lastTurns.Remove(key);
                }
            }
        }

        return taken.Distinct(StringComparer.Ordinal).ToList();
    }

    // A job that two limits refused has a turn in each line.
    private static string JobKey(string key, string jobId) => string.Concat(key, "\n", jobId);

    private void Purge(DateTimeOffset now)
    {
        foreach (var (jobId, turn) in _jobTurns)
        {
            if (turn + ForgetAfter < now)
            {
                _jobTurns.Remove(jobId);
            }
        }

        foreach (var (key, last) in _lastTurns)
        {
            if (last < now)
            {
                _lastTurns.Remove(key);
            }
        }
    }
}
