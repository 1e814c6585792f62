using Conveyor;

namespace ConveyorWorker1.Jobs;

/// <summary>
/// Runs <see cref="SendWelcomeEmail"/>: resolved in a new scope for every job, dependencies in the constructor.
/// </summary>
public sealed class SendWelcomeEmailHandler(IWelcomeEmails emails) : IJobHandler<SendWelcomeEmail>
{
    public async Task HandleAsync(SendWelcomeEmail payload, JobContext context, CancellationToken cancellationToken)
    {
        // What retrying cannot fix is a SkipRetryException; any other exception is retried with backoff.
        if (payload.UserId <= 0)
        {
            throw new SkipRetryException($"user_id must be a positive number; got {payload.UserId}.");
        }

        if (!await emails.SendAsync(payload.UserId, cancellationToken))
        {
            throw new SkipRetryException($"User {payload.UserId} does not exist.");
        }
    }
}
