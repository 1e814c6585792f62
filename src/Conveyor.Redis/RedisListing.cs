using System.Globalization;
using Conveyor.Storage;

namespace Conveyor.Redis;

/// <summary>
/// Merges one listing page from the queues' parts. Each queue is scanned newest first from the cursor in bounded
/// calls; a job is placed on the page only once every queue still being scanned has got past it, so that an older
/// job of one queue never appears before a newer one of another.
/// </summary>
internal sealed class RedisListing
{
    private readonly int _limit;
    private readonly List<Scan> _scans;

    /// <summary>A listing that merges each (queue, tenant) part: one tenant's queues, or every tenant's for an operator.</summary>
    public RedisListing(JobQuery query, JobCursor? cursor, IReadOnlyList<(string Queue, string Tenant)> parts)
    {
        _limit = query.Limit;
        var createdAt = cursor is { } c ? RedisTime.Format(c.CreatedAtUnixMicroseconds) : string.Empty;
        _scans = [.. parts.Select(p => new Scan(p.Queue, p.Tenant) { PositionCreatedAt = createdAt, PositionId = cursor?.JobId ?? string.Empty })];
    }

    /// <summary>The queues to read next (all in one pipelined round trip), or none when the page is settled.</summary>
    public List<Scan> NextScans()
    {
        var active = _scans.Where(s => !s.Exhausted && s.Matches.Count <= _limit).ToList();
        if (active.Count == 0)
        {
            return active;
        }

        // Everything at or after the least advanced position is settled: no queue can still add a newer job.
        var threshold = active.Select(s => s.Position).Max();
        var settled = _scans.Sum(s => s.Matches.Count(j => Key(j).CompareTo(threshold) >= 0));
        return settled > _limit ? [] : active;
    }

    /// <summary>How many more matches a queue's scan should look for: never more than a page and one.</summary>
    public int Wanted(Scan scan) => _limit + 1 - scan.Matches.Count;

    public void Add(Scan scan, bool exhausted, string createdAt, string id, List<JobInfo> matches)
    {
        scan.Matches.AddRange(matches);
        scan.Exhausted = exhausted;
        scan.PositionCreatedAt = createdAt;
        scan.PositionId = id;
    }

    public JobPage Page()
    {
        var jobs = _scans.SelectMany(s => s.Matches).ToList();
        jobs.Sort(static (a, b) => Key(b).CompareTo(Key(a)));
        if (jobs.Count <= _limit)
        {
            return new JobPage(jobs, null);
        }

        var page = jobs.GetRange(0, _limit);
        var last = page[^1];
        return new JobPage(page, new JobCursor(RedisTime.ToMicros(last.CreatedAt), last.Id).Encode());
    }

    private static SortKey Key(JobInfo job) => new(RedisTime.ToMicros(job.CreatedAt), job.Id);

    /// <summary>A position in newest-first order: (created-at µs, id), compared ordinally.</summary>
    internal readonly record struct SortKey(long CreatedAt, string Id) : IComparable<SortKey>
    {
        public static readonly SortKey Newest = new(long.MaxValue, string.Empty);

        public int CompareTo(SortKey other)
        {
            var byTime = CreatedAt.CompareTo(other.CreatedAt);
            return byTime != 0 ? byTime : string.CompareOrdinal(Id, other.Id);
        }
    }

    /// <summary>One queue's (and tenant's) progress: where its scan stands and what it matched.</summary>
    internal sealed class Scan(string queue, string tenant)
    {
        public string Queue { get; } = queue;

        public string Tenant { get; } = tenant;

        /// <summary>Created-at (µs) of the last entry scanned, or "" before the first (then: the newest).</summary>
        public string PositionCreatedAt { get; set; } = string.Empty;

        public string PositionId { get; set; } = string.Empty;

        public bool Exhausted { get; set; }

        public List<JobInfo> Matches { get; } = [];

        public SortKey Position => PositionCreatedAt.Length == 0
            ? SortKey.Newest
            : new SortKey((long)double.Parse(PositionCreatedAt, CultureInfo.InvariantCulture), PositionId);
    }
}
