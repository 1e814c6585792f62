using Conveyor.Storage;

namespace Conveyor.Postgres;

/// <summary>
/// The columns of a batch of new jobs other than id and payload, sent once per distinct combination ("shape")
/// instead of once per job. A bulk enqueue usually has one shape (same type, queue, tenant, options), so the
/// statement gets three per-job arrays (id, payload, shape number) and twelve one-element arrays, rather than
/// fifteen arrays of a thousand elements: each array element costs client CPU to write and server CPU to read.
/// Jobs with unique keys each get their own shape, which is no worse than one array element per column.
/// </summary>
internal sealed class JobShapes
{
    private readonly Dictionary<Shape, int> _numbers = [];

    public JobShapes(IReadOnlyList<NewJob> jobs, DateTimeOffset now)
    {
        ShapeOf = new int[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            var shape = new Shape(
                job.Type, job.Queue, job.Tenant, StateAt(job, now).ToStorageName(), job.MaxRetry, job.Timeout,
                job.Deadline?.UtcDateTime, job.ProcessAt?.UtcDateTime, job.UniqueKey, job.UniqueUntil?.UtcDateTime,
                job.Retention, job.TraceParent, job.FailedRetention ?? job.Retention, job.CancelledRetention ?? job.Retention);
            if (!_numbers.TryGetValue(shape, out var number))
            {
                // 1-based: the statement matches it against the ordinality of the shape arrays.
                number = _numbers.Count + 1;
                _numbers.Add(shape, number);
            }

            ShapeOf[i] = number;
            AnyUniqueKey |= job.UniqueKey is not null;
        }

        var n = _numbers.Count;
        Types = new string[n];
        Queues = new string[n];
        Tenants = new string[n];
        States = new string[n];
        MaxRetries = new int[n];
        Timeouts = new TimeSpan?[n];
        Deadlines = new DateTime?[n];
        ScheduledAts = new DateTime?[n];
        UniqueKeys = new string?[n];
        UniqueUntils = new DateTime?[n];
        Retentions = new TimeSpan[n];
        FailedRetentions = new TimeSpan[n];
        CancelledRetentions = new TimeSpan[n];
        TraceParents = new string?[n];
        foreach (var (shape, number) in _numbers)
        {
            var k = number - 1;
            Types[k] = shape.Type;
            Queues[k] = shape.Queue;
            Tenants[k] = shape.Tenant;
            States[k] = shape.State;
            MaxRetries[k] = shape.MaxRetry;
            Timeouts[k] = shape.Timeout;
            Deadlines[k] = shape.Deadline;
            ScheduledAts[k] = shape.ScheduledAt;
            UniqueKeys[k] = shape.UniqueKey;
            UniqueUntils[k] = shape.UniqueUntil;
            Retentions[k] = shape.Retention;
            FailedRetentions[k] = shape.FailedRetention;
            CancelledRetentions[k] = shape.CancelledRetention;
            TraceParents[k] = shape.TraceParent;
        }
    }

    /// <summary>The shape number (1-based) of each job, in input order.</summary>
    public int[] ShapeOf { get; }

    public bool AnyUniqueKey { get; }

    public string[] Types { get; }

    public string[] Queues { get; }

    public string[] Tenants { get; }

    public string[] States { get; }

    public int[] MaxRetries { get; }

    public TimeSpan?[] Timeouts { get; }

    public DateTime?[] Deadlines { get; }

    public DateTime?[] ScheduledAts { get; }

    public string?[] UniqueKeys { get; }

    public DateTime?[] UniqueUntils { get; }

    public TimeSpan[] Retentions { get; }

    public TimeSpan[] FailedRetentions { get; }

    public TimeSpan[] CancelledRetentions { get; }

    public string?[] TraceParents { get; }

    /// <summary>The state a job is inserted in: waiting while it has dependencies (flow_link() may release it at once).</summary>
    public static JobState StateAt(NewJob job, DateTimeOffset now) =>
        job.DependsOn.Count > 0 ? JobState.Waiting : job.ProcessAt is { } at && at > now ? JobState.Scheduled : JobState.Pending;

    private readonly record struct Shape(
        string Type, string Queue, string Tenant, string State, int MaxRetry, TimeSpan? Timeout, DateTime? Deadline,
        DateTime? ScheduledAt, string? UniqueKey, DateTime? UniqueUntil, TimeSpan Retention, string? TraceParent,
        TimeSpan FailedRetention, TimeSpan CancelledRetention);
}
