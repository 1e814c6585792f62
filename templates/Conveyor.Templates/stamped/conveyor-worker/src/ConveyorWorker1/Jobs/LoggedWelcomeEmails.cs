namespace ConveyorWorker1.Jobs;

/// <summary>A stand-in that logs instead of sending: replace it with your mail service.</summary>
public sealed partial class LoggedWelcomeEmails(ILogger<LoggedWelcomeEmails> logger) : IWelcomeEmails
{
    public Task<bool> SendAsync(long userId, CancellationToken cancellationToken)
    {
        LogSent(logger, userId);
        return Task.FromResult(true);
    }

    [LoggerMessage(LogLevel.Information, "Welcome email sent to user {user_id}")]
    private static partial void LogSent(ILogger logger, long user_id);
}
