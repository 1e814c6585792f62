namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Enqueues a <c>note:archive</c> job every <c>Conveyor:Samples:Interval</c> while <c>Conveyor:Samples:Produce</c> is
/// true, so that the first run shows jobs flowing through the server.
/// </summary>
public sealed partial class SampleProducer(IJobClient client, IConfiguration configuration, TimeProvider timeProvider, ILogger<SampleProducer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = configuration.GetValue("Conveyor:Samples:Interval", TimeSpan.FromSeconds(2));
        using var timer = new PeriodicTimer(interval, timeProvider);
        long noteId = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var result = await client.EnqueueDefaultAsync(new ArchiveNote(++noteId), ArchiveNote.DefaultOptions, stoppingToken);
                    LogEnqueued(logger, result.JobId, noteId);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogEnqueueFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(1208, LogLevel.Information, "Enqueued sample job {job_id} (note:archive, note {note_id})")]
    private static partial void LogEnqueued(ILogger logger, string job_id, long note_id);

    [LoggerMessage(1209, LogLevel.Warning, "Could not enqueue a sample job")]
    private static partial void LogEnqueueFailed(ILogger logger, Exception exception);
}
