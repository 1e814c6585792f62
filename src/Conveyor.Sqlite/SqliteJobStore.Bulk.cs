using Conveyor.Storage;

namespace Conveyor.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    /// <remarks>One write transaction for the whole batch, with the prepared statements of the single-job commands.</remarks>
    public async ValueTask<IReadOnlyList<JobCommandResult>> RunBulkAsync(JobBulkAction action, string? tenant, IReadOnlyList<string> jobIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jobIds.Count, IJobQueryStore.MaxBulkJobs, nameof(jobIds));
        if (!Enum.IsDefined(action))
        {
            throw new ArgumentOutOfRangeException(nameof(action), action, "Not a bulk action.");
        }

        foreach (var id in jobIds)
        {
            ArgumentNullException.ThrowIfNull(id, nameof(jobIds));
        }

        if (jobIds.Count == 0)
        {
            return [];
        }

        var results = await WriteAsync((action, tenant, jobIds), static (store, session, c) =>
            session.InTransaction((store, c), static (s, state) =>
            {
                var answers = new JobCommandResult[state.c.jobIds.Count];
                for (var i = 0; i < answers.Length; i++)
                {
                    answers[i] = state.store.ApplyCommand(s, state.c.tenant, state.c.jobIds[i], state.c.action);
                }

                return answers;
            }),
            cancellationToken).ConfigureAwait(false);
        if (action == JobBulkAction.Requeue && results.Contains(JobCommandResult.Done))
        {
            _signal.Fire();
        }

        WakeIfFlowReleased();

        return results;
    }
}
