namespace ConveyorWorker1.Jobs;

/// <summary>What the job needs from the rest of the application (replace it with your mail service).</summary>
public interface IWelcomeEmails
{
    /// <summary>Sends the welcome email; false if there is no such user.</summary>
    Task<bool> SendAsync(long userId, CancellationToken cancellationToken);
}
