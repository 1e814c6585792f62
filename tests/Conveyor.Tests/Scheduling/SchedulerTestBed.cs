using Conveyor.Diagnostics;
using Conveyor.Server;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Scheduling;

/// <summary>An in-memory store, client and scheduler on a fake clock: tests move the clock and run the scheduler's ticks.</summary>
internal sealed class SchedulerTestBed : IDisposable
{
    private readonly ServiceProvider _services;

    public SchedulerTestBed(DateTimeOffset start, Action<JobServerOptions>? configure = null)
    {
        Time = new FakeTimeProvider(start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        services.AddLogging();
        services.AddConveyor().UseInMemoryStore();
        _services = services.BuildServiceProvider();
        Configure = configure;
        var meterFactory = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        Fires = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "schedule_fires_total");
        Misfires = new MetricCollector<long>(meterFactory, ConveyorMetrics.MeterName, "schedule_misfires_total");
        Scheduler = NewScheduler();
    }

    public FakeTimeProvider Time { get; }

    public Action<JobServerOptions>? Configure { get; }

    public IServiceProvider Services => _services;

    public IJobStore Store => _services.GetRequiredService<IJobStore>();

    public IScheduleClient Schedules => _services.GetRequiredService<IScheduleClient>();

    public Scheduler Scheduler { get; }

    public MetricCollector<long> Fires { get; }

    public MetricCollector<long> Misfires { get; }

    /// <summary>
    /// Another scheduler on the same store (or the store as <paramref name="store"/> wraps it), as a second server would
    /// run, listing <paramref name="batchSize"/> due schedules at a time.
    /// </summary>
    public Scheduler NewScheduler(IJobStore? store = null, int batchSize = Scheduler.DefaultBatchSize)
    {
        var options = new JobServerOptions();
        Configure?.Invoke(options);
        return new Scheduler(store ?? Store, _services.GetRequiredService<IJobClient>(), _services.GetRequiredService<ConveyorMetrics>(),
            options, null, Time, NullLogger.Instance) { BatchSize = batchSize };
    }

    public async Task<ScheduleRecord> CreateAsync(string name, string cron, string timeZone = "UTC", Action<ScheduleDefinition>? configure = null)
    {
        var definition = new ScheduleDefinition { Name = name, Cron = cron, TimeZone = timeZone, JobType = "test:echo", Payload = """{"text":"tick"}""" };
        configure?.Invoke(definition);
        return await Schedules.CreateAsync(definition) ?? throw new InvalidOperationException("exists");
    }

    /// <summary>Runs the scheduler every <paramref name="step"/> of fake time until <paramref name="until"/>.</summary>
    public async Task RunUntilAsync(DateTimeOffset until, TimeSpan step)
    {
        while (Time.GetUtcNow() < until)
        {
            var next = Time.GetUtcNow() + step;
            Time.Advance((next > until ? until : next) - Time.GetUtcNow());
            await Scheduler.RunOnceAsync(CancellationToken.None);
        }
    }

    /// <summary>The ticks (UTC) whose jobs the store holds, in order.</summary>
    public async Task<List<DateTimeOffset>> TicksAsync(string tenant = TenantId.Default)
    {
        var page = await Store.ListAsync(new JobQuery { Tenant = tenant, Limit = JobQuery.MaxLimit }, CancellationToken.None);
        return page.Jobs.Select(j => Conveyor.Scheduling.ScheduleTickId.ScheduledAt(j.Id))
            .Where(t => t is not null).Select(t => t!.Value).Order().ToList();
    }

    public long Misfired(string schedule, string policy) => Misfires.GetMeasurementSnapshot()
        .Where(m => Equals(m.Tags["schedule"], schedule) && Equals(m.Tags["policy"], policy)).Sum(m => m.Value);

    public long Fired(string schedule) => Fires.GetMeasurementSnapshot().Where(m => Equals(m.Tags["schedule"], schedule)).Sum(m => m.Value);

    public void Dispose()
    {
        Fires.Dispose();
        Misfires.Dispose();
        _services.Dispose();
    }
}
