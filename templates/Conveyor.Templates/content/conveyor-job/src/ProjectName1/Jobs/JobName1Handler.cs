using Conveyor;

namespace ProjectName1.Jobs;

/// <summary>
/// Runs <see cref="JobName1"/>. Take the use case or service that does the work in the constructor (the handler is
/// resolved in a new scope for every job) and pass the cancellation token to everything you await.
/// </summary>
public sealed class JobName1Handler : IJobHandler<JobName1>
{
    public Task HandleAsync(JobName1 payload, JobContext context, CancellationToken cancellationToken)
    {
        // What retrying cannot fix is a SkipRetryException; any other exception is retried with backoff.
        if (payload.Id <= 0)
        {
            throw new SkipRetryException($"id must be a positive number; got {payload.Id}.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Task.CompletedTask;
    }
}
