namespace Conveyor.Storage.InMemory;

public sealed partial class InMemoryJobStore
{
    /// <summary>A job as the store holds it: mutable, and only ever touched under the store's lock.</summary>
    private sealed class JobRecord
    {
        public required string Id { get; init; }

        public required long Sequence { get; init; }

        public required string Type { get; init; }

        public required string Queue { get; init; }

        public required string Tenant { get; init; }

        public required byte[] Payload { get; init; }

        public required int MaxRetry { get; init; }

        public TimeSpan? Timeout { get; init; }

        public DateTimeOffset? Deadline { get; init; }

        public string? UniqueKey { get; init; }

        public DateTimeOffset UniqueUntil { get; init; }

        public required TimeSpan Retention { get; init; }

        public TimeSpan? FailedRetention { get; init; }

        public TimeSpan? CancelledRetention { get; init; }

        public string? TraceParent { get; init; }

        public IReadOnlyList<JobDependency> DependsOn { get; init; } = [];

        public string? BatchId { get; init; }

        /// <summary>While waiting: how many of its dependencies have not finished yet.</summary>
        public int WaitingFor { get; set; }

        /// <summary>The waiting jobs to resolve when this job finishes (null for none).</summary>
        public List<(JobRecord Job, JobDependency Link)>? Dependants { get; set; }

        /// <summary>True once the job's first finish was counted in its batch (a manual retry is not counted again).</summary>
        public bool CountedInBatch { get; set; }

        public required DateTimeOffset CreatedAt { get; init; }

        public JobState State { get; set; }

        public int Attempts { get; set; }

        public DateTimeOffset? ScheduledAt { get; set; }

        public int Progress { get; set; }

        public byte[]? Result { get; set; }

        public string? ResultUrl { get; set; }

        /// <summary>The errors kept, oldest first: at most <see cref="JobError.MaxKeptPerJob"/> (AddError drops those in between).</summary>
        public List<JobError> Errors { get; } = [];

        /// <summary>Appends an error, keeping the first and the most recent ones as every store does.</summary>
        public void AddError(JobError error)
        {
            Errors.Add(error);
            if (Errors.Count > JobError.MaxKeptPerJob)
            {
                Errors.RemoveRange(1, Errors.Count - JobError.MaxKeptPerJob);
            }
        }

        /// <summary>Durable steps by name, in the order first stored; null until the first.</summary>
        public List<JobStep>? Steps { get; set; }

        public DateTimeOffset UpdatedAt { get; set; }

        public DateTimeOffset? StartedAt { get; set; }

        public DateTimeOffset? CompletedAt { get; set; }

        public bool CancelRequested { get; set; }

        public string? SnoozeReason { get; set; }

        public long LeaseToken { get; set; }

        /// <summary>The server the job is leased to while it is active.</summary>
        public string? LeaseOwner { get; set; }

        public DateTimeOffset LeaseExpiresAt { get; set; }

        /// <summary>When the job last became pending, or was handed back (recovered or released): the start of its wait.</summary>
        public DateTimeOffset PendingSince { get; set; }

        /// <summary>
        /// When the job last became pending other than by a hand-back: its place in the queue, which a job handed back
        /// keeps (it runs next, not after the backlog that arrived while it was leased), though its wait starts again.
        /// </summary>
        public DateTimeOffset PlaceSince { get; set; }

        /// <summary>The job's node in its queue's pending list while it is pending.</summary>
        public LinkedListNode<JobRecord>? PendingNode { get; set; }

        /// <summary>The job's node in its tenant's pending list of its queue while it is pending (fair dequeues read it).</summary>
        public LinkedListNode<JobRecord>? TenantPendingNode { get; set; }

        /// <summary>The job's entry in the due, lease or retention set that matches its state.</summary>
        public TimedEntry? Entry { get; set; }

        /// <summary>While the job is finished: its entry in its queue's finish-ordered set of its outcome (the count cap).</summary>
        public TimedEntry? FinishedEntry { get; set; }

        public JobInfo ToInfo() => new()
        {
            Id = Id,
            Type = Type,
            Queue = Queue,
            Tenant = Tenant,
            State = State,
            Payload = Payload,
            Attempts = Attempts,
            MaxRetry = MaxRetry,
            Timeout = Timeout,
            Deadline = Deadline,
            ScheduledAt = ScheduledAt,
            UniqueKey = UniqueKey,
            Retention = Retention,
            Progress = Progress,
            Result = Result is null ? default(ReadOnlyMemory<byte>?) : Result,
            ResultUrl = ResultUrl,
            Errors = Errors.ToArray(),
            TraceParent = TraceParent,
            CreatedAt = CreatedAt,
            UpdatedAt = UpdatedAt,
            StartedAt = StartedAt,
            CompletedAt = CompletedAt,
            CancelRequested = CancelRequested,
            SnoozeReason = SnoozeReason,
            DependsOn = DependsOn,
            BatchId = BatchId,
        };

        public LeasedJob ToLeased() => new()
        {
            Id = Id,
            Type = Type,
            Queue = Queue,
            Tenant = Tenant,
            Payload = Payload,
            Attempt = Attempts,
            MaxRetry = MaxRetry,
            Timeout = Timeout,
            Deadline = Deadline,
            LeaseToken = LeaseToken,
            LeaseExpiresAt = LeaseExpiresAt,
            TraceParent = TraceParent,
            CreatedAt = CreatedAt,
            EnqueuedAt = PendingSince,
            BatchId = BatchId,
        };

        public EnqueueResult ToResult(EnqueueOutcome outcome) => new(outcome, Id, State, Queue, CreatedAt);
    }

    /// <summary>One queue: its pending jobs in the order they became pending, its counts by state, and whether it is paused.</summary>
    private sealed class QueueState(string name)
    {
        public string Name { get; } = name;

        public LinkedList<JobRecord> Pending { get; } = new();

        /// <summary>The same pending jobs by tenant, each list in queue order; a tenant is here only while it has one.</summary>
        public SortedDictionary<string, LinkedList<JobRecord>> PendingByTenant { get; } = new(StringComparer.Ordinal);

        public long[] Counts { get; } = new long[Enum.GetValues<JobState>().Length];

        public bool Paused { get; set; }

        /// <summary>Succeeded jobs by completion time, oldest first: what the count cap trims.</summary>
        public SortedSet<TimedEntry> Succeeded { get; } = [];

        /// <summary>Failed, partially successful and cancelled jobs by completion time, oldest first.</summary>
        public SortedSet<TimedEntry> Unsuccessful { get; } = [];

        public SortedSet<TimedEntry> FinishedOf(JobState state) => state == JobState.Succeeded ? Succeeded : Unsuccessful;

        public bool IsListed => Paused || Counts.Any(static c => c > 0);
    }

    /// <summary>A job's place in a set ordered by time; the sequence keeps jobs with the same time apart and in creation order.</summary>
    private readonly record struct TimedEntry(DateTimeOffset At, long Sequence, string JobId) : IComparable<TimedEntry>
    {
        public int CompareTo(TimedEntry other)
        {
            var byTime = At.CompareTo(other.At);
            return byTime != 0 ? byTime : Sequence.CompareTo(other.Sequence);
        }
    }
}
