using System.Globalization;

namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Deletes the notes archived before the cut-off. The cut-off is counted from the tick the job runs for
/// (<see cref="JobContext.ScheduledAt"/>), not from when it starts, so a catch-up run after an outage deletes what the
/// missed run would have, and a retry deletes the same set.
/// </summary>
public sealed partial class NoteCleanupHandler(INoteRepository notes, TimeProvider timeProvider, ILogger<NoteCleanupHandler> logger)
    : IJobHandler<CleanupOldNotes>
{
    public Task HandleAsync(CleanupOldNotes payload, JobContext context, CancellationToken cancellationToken) =>
        CleanUpAsync(payload, context.ScheduledAt ?? timeProvider.GetUtcNow(), cancellationToken);

    /// <summary>Deletes the notes archived more than the payload's days before <paramref name="asOf"/>; returns how many.</summary>
    public async Task<int> CleanUpAsync(CleanupOldNotes payload, DateTimeOffset asOf, CancellationToken cancellationToken)
    {
        if (payload.OlderThanDays < 1)
        {
            throw new SkipRetryException($"older_than_days must be at least 1; got {payload.OlderThanDays}.");
        }

        var cutoff = asOf.AddDays(-payload.OlderThanDays);
        var deleted = await notes.DeleteArchivedBeforeAsync(cutoff, cancellationToken);
        LogCleaned(logger, deleted, cutoff.ToString("O", CultureInfo.InvariantCulture));
        return deleted;
    }

    // The instant as an ISO 8601 string: a DateTimeOffset field is rendered by each logger provider its own way.
    [LoggerMessage(1202, LogLevel.Information, "Deleted {deleted} notes archived before {cutoff}")]
    private static partial void LogCleaned(ILogger logger, int deleted, string cutoff);
}
