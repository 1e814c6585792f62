using Conveyor.Sqlite.Internal;
using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    public ValueTask<bool> SaveStepAsync(string jobId, long leaseToken, JobStep step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentNullException.ThrowIfNull(step);
        JobStep.Validate(step.Name, step.Result.Length);
        return WriteAsync((jobId, leaseToken, step), static (_, session, p) =>
            BindLease(session.Command(SqlStatement.SaveStep), p.jobId, p.leaseToken)
                .Bind("@name", p.step.Name)
                .Bind("@attempt", p.step.Attempt)
                .Bind("@result", p.step.Result.ToBindableArray())
                .Bind("@completed_at", UnixTime.ToMicroseconds(p.step.CompletedAt))
                .ExecuteNonQuery() == 1, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<JobStep>?> GetStepsAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        return ReadAsync((tenant, jobId), static (_, session, key) =>
        {
            using var reader = session.Command(SqlStatement.GetSteps).Bind("@tenant", key.tenant).Bind("@id", key.jobId).ExecuteReader();
            if (!reader.Read())
            {
                return (IReadOnlyList<JobStep>?)null;
            }

            var steps = new List<JobStep>();
            if (!reader.IsDBNull(0))
            {
                do
                {
                    steps.Add(new JobStep(reader.GetString(0), reader.GetInt32(1), reader.GetFieldValue<byte[]>(2), UnixTime.FromMicroseconds(reader.GetInt64(3))));
                }
                while (reader.Read());
            }

            return steps;
        }, cancellationToken);
    }
}
