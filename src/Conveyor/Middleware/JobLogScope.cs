using System.Collections;

namespace Conveyor.Middleware;

/// <summary>The structured fields of a job's log scope: job_id, job_type, queue, attempt, tenant.</summary>
internal sealed class JobLogScope(JobContext context) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 5;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("job_id", context.JobId),
        1 => new("job_type", context.JobType),
        2 => new("queue", context.Queue),
        3 => new("attempt", context.Attempt),
        4 => new("tenant", context.Tenant),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"job_id:{context.JobId} job_type:{context.JobType} queue:{context.Queue} attempt:{context.Attempt}";
}
