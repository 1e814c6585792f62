using System.Diagnostics.Metrics;
using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Server;

/// <summary>
/// How a recovery is told. An outside run killed the worker of a job on its last attempt: the job went to the dead
/// letters with neither a <c>failed</c> count (the failure ratio alert did not see it) nor a log line at Error.
/// </summary>
public sealed class LeaseRecoveryReportTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger _logger = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Theory]
    [InlineData(0, 1, LogLevel.Error, 126)]
    [InlineData(1, 0, LogLevel.Warning, 11)]
    public async Task AJobWhoseWorkerDied_IsCountedFailed_AndLoggedAtError_OnlyWhenNoAttemptIsLeft(
        int maxRetry, int failedCount, LogLevel level, int eventId)
    {
        var store = new InMemoryJobStore(_time);
        await store.EnqueueAsync(new NewJob
        {
            Id = JobId.New(),
            Type = "test:run",
            Queue = QueueName.Default,
            Tenant = TenantId.Default,
            Payload = "{}"u8.ToArray(),
            MaxRetry = maxRetry,
            Retention = TimeSpan.FromDays(1),
        }, CancellationToken.None);
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

        Assert.Equal(1, recoveries.GetMeasurementSnapshot().Sum(static m => m.Value));
        var failed = processed.GetMeasurementSnapshot().Where(static m => (string?)m.Tags["status"] == "failed").ToList();
        Assert.Equal(failedCount, failed.Sum(static m => m.Value));
        Assert.All(failed, static m => Assert.Equal(("test:run", QueueName.Default), ((string?)m.Tags["task_type"], (string?)m.Tags["queue"])));
        var line = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Message.Contains(leased.Id, StringComparison.Ordinal));
        Assert.Equal((level, eventId), (line.Level, line.Id.Id));
        Assert.Equal(maxRetry == 0, line.Message.Contains("now FAILED", StringComparison.Ordinal));
    }
}
