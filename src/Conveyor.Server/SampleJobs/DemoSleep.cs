namespace Conveyor.Server.SampleJobs;

/// <summary>Waits <see cref="Seconds"/> seconds, reporting progress every second: handy to watch cancel, shutdown and crash recovery.</summary>
public sealed record DemoSleep(int Seconds) : IJobPayload
{
    public static string JobType => "demo:sleep";
}

public sealed class DemoSleepHandler(TimeProvider timeProvider) : IJobHandler<DemoSleep>
{
    public const int MaxSeconds = 3600;

    public async Task HandleAsync(DemoSleep payload, JobContext context, CancellationToken cancellationToken)
    {
        if (payload.Seconds is < 0 or > MaxSeconds)
        {
            throw new SkipRetryException($"seconds must be between 0 and {MaxSeconds}; got {payload.Seconds}.");
        }

        for (var second = 0; second < payload.Seconds; second++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), timeProvider, cancellationToken);
            await context.ReportProgressAsync((second + 1) * 100 / payload.Seconds, cancellationToken);
        }
    }
}
