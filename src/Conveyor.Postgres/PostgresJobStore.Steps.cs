using Conveyor.Storage;

namespace Conveyor.Postgres;

public sealed partial class PostgresJobStore
{
    // One statement: the row is written only while the job is active under the lease token (the SELECT finds the job
    // or nothing), and a step stored again keeps its place. Committed synchronously, unlike progress: a step that is
    // lost would run again, which is what a step exists to prevent.
    private const string SaveStepTemplate = """
        INSERT INTO :"schema".job_steps (job_id, name, ord, attempt, result, completed_at)
        SELECT id, $3, (SELECT COALESCE(MAX(ord), 0) + 1 FROM :"schema".job_steps WHERE job_id = $1), $4, $5, $6
        FROM :"schema".jobs
        WHERE id = $1 AND state = 'active' AND lease_token = $2
        ON CONFLICT (job_id, name) DO UPDATE SET attempt = excluded.attempt, result = excluded.result, completed_at = excluded.completed_at
        """;

    // No row: no such job of the tenant; one row of nulls: a job without steps.
    private const string GetStepsTemplate = """
        SELECT s.name, s.attempt, s.result, s.completed_at
        FROM :"schema".jobs j LEFT JOIN :"schema".job_steps s ON s.job_id = j.id
        WHERE j.tenant = $1 AND j.id = $2
        ORDER BY s.ord
        """;

    private string SaveStepSql => field ??= Sql(SaveStepTemplate);

    private string GetStepsSql => field ??= Sql(GetStepsTemplate);

    /// <inheritdoc />
    public ValueTask<bool> SaveStepAsync(string jobId, long leaseToken, JobStep step, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => SaveStepCoreAsync(jobId, leaseToken, step, token), cancellationToken);

    private async ValueTask<bool> SaveStepCoreAsync(string jobId, long leaseToken, JobStep step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentNullException.ThrowIfNull(step);
        JobStep.Validate(step.Name, step.Result.Length);
        return await ExecuteAsync(SaveStepSql, cancellationToken, P(jobId), P(leaseToken), P(step.Name), P(step.Attempt), P(step.Result.ToArray()), TimestampTz(step.CompletedAt)).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<JobStep>?> GetStepsAsync(string tenant, string jobId, CancellationToken cancellationToken) =>
        _grace.RunAsync(token => GetStepsCoreAsync(tenant, jobId, token), cancellationToken);

    private async ValueTask<IReadOnlyList<JobStep>?> GetStepsCoreAsync(string tenant, string jobId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(jobId);
        try
        {
            await using var command = _dataSource.CreateCommand(GetStepsSql);
            command.Parameters.Add(P(tenant));
            command.Parameters.Add(P(jobId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            var steps = new List<JobStep>();
            if (!reader.IsDBNull(0))
            {
                do
                {
                    steps.Add(new JobStep(reader.GetString(0), reader.GetInt32(1), reader.GetFieldValue<byte[]>(2), JobRows.Time(reader, 3)));
                }
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false));
            }

            return steps;
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw Fault(exception);
        }
    }
}
