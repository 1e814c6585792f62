namespace Conveyor.Storage;

/// <summary>
/// What <see cref="IJobQueueStore.EnqueueAllOrNoneAsync"/> did: every job stored, or none of them and then the first
/// job that was refused and the job that refused it.
/// </summary>
public sealed record EnqueueAllResult
{
    private EnqueueAllResult(IReadOnlyList<EnqueueResult> results, int refusedIndex, EnqueueResult? refusal)
    {
        Results = results;
        RefusedIndex = refusedIndex;
        Refusal = refusal;
    }

    /// <summary>True when every job was stored; false when none was.</summary>
    public bool AllStored => Refusal is null;

    /// <summary>One result per job, in order, when every job was stored; empty when none was.</summary>
    public IReadOnlyList<EnqueueResult> Results { get; }

    /// <summary>The position of the first refused job in the list; -1 when every job was stored.</summary>
    public int RefusedIndex { get; }

    /// <summary>
    /// Why the job at <see cref="RefusedIndex"/> was refused: a duplicate outcome and the id, state, queue and creation
    /// time of the job that holds its id or unique key (which may be an earlier job of the same list, then not
    /// stored either); null when every job was stored.
    /// </summary>
    public EnqueueResult? Refusal { get; }

    /// <summary>Every job was stored; <paramref name="results"/> has one result per job, in order.</summary>
    public static EnqueueAllResult Stored(IReadOnlyList<EnqueueResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return new(results, -1, null);
    }

    /// <summary>Nothing was stored because the job at <paramref name="index"/> was refused as <paramref name="refusal"/> says.</summary>
    public static EnqueueAllResult Refused(int index, EnqueueResult refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (!refusal.IsDuplicate)
        {
            throw new ArgumentException("A refusal has a refused outcome.", nameof(refusal));
        }

        return new([], index, refusal);
    }

    /// <summary>
    /// For stores: the first job of <paramref name="jobs"/> whose id or unique key (within its tenant) an earlier job of
    /// the same list has, refused with that earlier job as its holder (not stored, so pending or scheduled at
    /// <paramref name="now"/>); null when the list repeats neither.
    /// </summary>
    public static EnqueueAllResult? RefuseRepeatsWithinList(IReadOnlyList<NewJob> jobs, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var ids = new Dictionary<string, NewJob>(StringComparer.Ordinal);
        var keys = new Dictionary<(string Tenant, string Key), NewJob>();
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            ArgumentNullException.ThrowIfNull(job, nameof(jobs));
            if (!ids.TryAdd(job.Id, job))
            {
                return Refused(i, Unstored(ids[job.Id], EnqueueOutcome.DuplicateId, now));
            }

            if (job.UniqueKey is { } key && !keys.TryAdd((job.Tenant, key), job))
            {
                return Refused(i, Unstored(keys[(job.Tenant, key)], EnqueueOutcome.DuplicateUniqueKey, now));
            }
        }

        return null;
    }

    private static EnqueueResult Unstored(NewJob holder, EnqueueOutcome outcome, DateTimeOffset now) =>
        new(outcome, holder.Id, holder.ProcessAt > now ? JobState.Scheduled : JobState.Pending, holder.Queue, now);
}
