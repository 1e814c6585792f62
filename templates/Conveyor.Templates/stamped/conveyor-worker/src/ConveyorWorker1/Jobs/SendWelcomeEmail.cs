using Conveyor;

namespace ConveyorWorker1.Jobs;

/// <summary>Sends the welcome email to a new user. Carries the user's id, not the user.</summary>
public sealed record SendWelcomeEmail(long UserId) : IJobPayload
{
    public static string JobType => "email:welcome";

    /// <summary>The options this job is usually enqueued with.</summary>
    public static JobOptions DefaultOptions { get; } = new() { MaxRetry = 3, Timeout = TimeSpan.FromSeconds(30) };
}
