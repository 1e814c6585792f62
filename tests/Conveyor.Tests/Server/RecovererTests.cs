using System.Diagnostics.Metrics;
using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Conveyor.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// How a recovery is told: a job whose worker stopped renewing its lease with no attempt left goes to the dead letters
/// with a line at Error, as a handler's failure does; one that runs again, with a warning. Either is one recovery.
/// </summary>
public sealed class RecovererTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger _logger = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Theory]
    [InlineData(0, LogLevel.Error, 126, "failed")]
    [InlineData(1, LogLevel.Warning, 11, "requeued")]
    public async Task AJobWhoseWorkerDied_IsLoggedAtError_OnlyWhenNoAttemptIsLeft_AndCountedAsOneRecoveryByOutcome(
        int maxRetry, LogLevel level, int eventId, string outcome)
    {
        var store = new InMemoryJobStore(_time);
        await LeasedJobs.EnqueueAsync(store, maxRetry);
        var leased = Assert.Single(await store.DequeueAsync(new DequeueRequest
        {
            Queues = [new QueueQuota(QueueName.Default, 1)],
            Limit = 1,
            ServerId = "dead-server",
            LeaseDuration = TimeSpan.FromSeconds(30),
        }, CancellationToken.None));
        var meters = _services.GetRequiredService<IMeterFactory>();
        using var processed = new MetricCollector<long>(meters, ConveyorMetrics.MeterName, "job_processed_total");
        using var recoveries = new MetricCollector<long>(meters, ConveyorMetrics.MeterName, "job_lease_recoveries_total");
        var recoverer = new Recoverer(store, new JobReadySignal(), new ConveyorMetrics(meters), TimeSpan.FromSeconds(1), _time, _logger);
        _time.Advance(TimeSpan.FromMinutes(1));

        await recoverer.RunOnceAsync(CancellationToken.None);

        var recovery = Assert.Single(recoveries.GetMeasurementSnapshot(), static m => m.Value > 0);
        Assert.Equal((1, QueueName.Default, outcome), (recovery.Value, (string?)recovery.Tags["queue"], (string?)recovery.Tags["outcome"]));
        // Not an attempt: a worker that lived on (a pause, an outage) counted it lease_lost already.
        Assert.Empty(processed.GetMeasurementSnapshot());
        var line = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Message.Contains(leased.Id, StringComparison.Ordinal));
        Assert.Equal((level, eventId), (line.Level, line.Id.Id));
        Assert.Equal(maxRetry == 0, line.Message.Contains("now FAILED", StringComparison.Ordinal));
    }
}
