using System.Text;
using Conveyor.Server;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Testing;

/// <summary>
/// Conveyor as the application registers it, on the in-memory store and a fake clock, for the application's own tests:
/// jobs run through the real pipeline (the stock middleware, the user's middleware, retries and backoff, item errors,
/// results) when the test drains them (<see cref="ConveyorTestMode.Manual"/>) or at once (<see cref="ConveyorTestMode.Inline"/>).
/// No background thread runs: nothing happens between the test's own steps.
/// <code>
/// await using var host = ConveyorTestHost.Create(conveyor => conveyor.AddHandler&lt;ArchiveNoteHandler&gt;());
/// await host.Client.EnqueueAsync(new ArchiveNote(42));
/// host.AssertEnqueued&lt;ArchiveNote&gt;(note =&gt; note.NoteId == 42);
/// var ran = await host.DrainAsync();
/// </code>
/// </summary>
public sealed class ConveyorTestHost : IAsyncDisposable
{
    /// <summary>The most attempts one drain runs before it concludes that the handlers enqueue each other forever.</summary>
    public const int MaxAttemptsPerDrain = 10_000;

    private const int BatchSize = 100;
    private static readonly AsyncLocal<bool> Draining = new();
    private readonly ServiceProvider _services;
    private readonly InMemoryJobStore _store;
    private readonly SemaphoreSlim _drainGate = new(1, 1);
    private readonly ConveyorTestMode _mode;
    private readonly JobPayloadSerializer _serializer;
    private Processor? _processor;

    private ConveyorTestHost(Action<IConveyorBuilder> configure, ConveyorTestMode mode, Action<IServiceCollection>? configureServices, DateTimeOffset start)
    {
        _mode = mode;
        Time = new FakeTimeProvider(start);
        _store = new InMemoryJobStore(Time);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(Time);
        configureServices?.Invoke(services);
        var conveyor = services.AddConveyor();
        configure(conveyor);
        if (!services.Any(d => d.ServiceType == typeof(Processor)))
        {
            conveyor.AddServer();
        }

        // Whatever store the application chose, its tests run on this one; the hosted services are never started.
        services.RemoveAll<IJobStore>();
        services.AddSingleton<IJobStore>(_store);
        if (mode == ConveyorTestMode.Inline)
        {
            Decorate<IJobClient>(services, inner => new InlineJobClient(inner, this));
            Decorate<IEventPublisher>(services, inner => new InlineEventPublisher(inner, this));
        }

        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        _serializer = _services.GetRequiredService<JobPayloadSerializer>();
    }

    /// <summary>The clock every part of the host reads: move it to make scheduled jobs and retries due.</summary>
    public FakeTimeProvider Time { get; }

    /// <summary>The host's services, as the application registered them.</summary>
    public IServiceProvider Services => _services;

    /// <summary>The application's client.</summary>
    public IJobClient Client => _services.GetRequiredService<IJobClient>();

    /// <summary>The application's event publisher.</summary>
    public IEventPublisher Events => _services.GetRequiredService<IEventPublisher>();

    /// <summary>Every job in the store, across tenants and states, in the order they were enqueued.</summary>
    public IReadOnlyList<JobInfo> Jobs => _store.AllJobs();

    /// <summary>
    /// Builds the host: <paramref name="configure"/> registers handlers, subscribers, schedules and options as the
    /// application does (its store choice is replaced by the in-memory store); <paramref name="services"/> registers
    /// what the handlers depend on.
    /// </summary>
    /// <param name="configure">The application's Conveyor registration.</param>
    /// <param name="mode">When enqueued jobs run.</param>
    /// <param name="services">The handlers' own dependencies (fakes of repositories, clients).</param>
    /// <param name="start">The fake clock's first instant; 2026-01-01 UTC when not set.</param>
    public static ConveyorTestHost Create(
        Action<IConveyorBuilder> configure,
        ConveyorTestMode mode = ConveyorTestMode.Manual,
        Action<IServiceCollection>? services = null,
        DateTimeOffset? start = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return new ConveyorTestHost(configure, mode, services, start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    }

    /// <summary>The jobs of <typeparamref name="TPayload"/>'s type with their payloads, in the order they were enqueued.</summary>
    public IReadOnlyList<(JobInfo Job, TPayload Payload)> JobsOf<TPayload>()
        where TPayload : IJobPayload =>
        [.. Jobs.Where(j => j.Type == TPayload.JobType).Select(j => (j, _serializer.Deserialize<TPayload>(j.Payload)!))];

    /// <summary>
    /// Asserts that a job of <typeparamref name="TPayload"/>'s type is waiting to run (pending, scheduled or retrying) and
    /// matches <paramref name="predicate"/>; returns the first such job.
    /// </summary>
    /// <exception cref="ConveyorAssertionException">No such job; the message lists the jobs the store holds.</exception>
    public JobInfo AssertEnqueued<TPayload>(Func<TPayload, bool>? predicate = null, string? queue = null)
        where TPayload : IJobPayload
    {
        foreach (var (job, payload) in JobsOf<TPayload>())
        {
            if (job.State is JobState.Pending or JobState.Scheduled or JobState.Retrying
                && (queue is null || job.Queue == queue)
                && (predicate is null || predicate(payload)))
            {
                return job;
            }
        }

        throw new ConveyorAssertionException(
            $"No waiting job of type '{TPayload.JobType}'{(queue is null ? "" : $" on queue '{queue}'")} matches. {Describe()}");
    }

    /// <summary>Asserts that no job is waiting to run (of <paramref name="jobType"/> only, when given).</summary>
    /// <exception cref="ConveyorAssertionException">Some are; the message lists the jobs the store holds.</exception>
    public void AssertNothingEnqueued(string? jobType = null)
    {
        if (Jobs.Any(j => j.State is JobState.Pending or JobState.Scheduled or JobState.Retrying && (jobType is null || j.Type == jobType)))
        {
            throw new ConveyorAssertionException($"Expected no waiting job{(jobType is null ? "" : $" of type '{jobType}'")}. {Describe()}");
        }
    }

    /// <summary>
    /// Runs every job that is due at <see cref="Time"/>'s present, one at a time through the real pipeline, including the
    /// jobs those handlers enqueue, until none is due. Retries and scheduled jobs wait for the clock: move
    /// <see cref="Time"/> and drain again.
    /// </summary>
    /// <exception cref="InvalidOperationException">More than <see cref="MaxAttemptsPerDrain"/> attempts: handlers that enqueue each other without end.</exception>
    public async Task<DrainResult> DrainAsync(CancellationToken cancellationToken = default)
    {
        await _drainGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        Draining.Value = true;
        try
        {
            return await DrainDueAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Draining.Value = false;
            _drainGate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync().ConfigureAwait(false);
        _drainGate.Dispose();
    }

    /// <summary>An inline enqueue's drain; inside a drain (a handler enqueuing) the running drain picks the job up instead.</summary>
    internal async Task RunInlineAsync(CancellationToken cancellationToken)
    {
        if (_mode == ConveyorTestMode.Inline && !Draining.Value)
        {
            await DrainAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<DrainResult> DrainDueAsync(CancellationToken cancellationToken)
    {
        _processor ??= _services.GetRequiredService<Processor>();
        int succeeded = 0, retried = 0, failed = 0, other = 0;
        while (true)
        {
            await _store.PromoteDueAsync(BatchSize, cancellationToken).ConfigureAwait(false);
            var queues = _store.QueueNames();
            if (queues.Count == 0)
            {
                break;
            }

            var request = new DequeueRequest
            {
                Queues = [.. queues.Select(q => new QueueQuota(q, BatchSize))],
                Limit = BatchSize,
                ServerId = "conveyor-test-host",
                LeaseDuration = TimeSpan.FromMinutes(5),
            };
            var leased = await _store.DequeueAsync(request, cancellationToken).ConfigureAwait(false);
            if (leased.Count == 0)
            {
                break;
            }

            foreach (var job in leased)
            {
                if (succeeded + retried + failed + other >= MaxAttemptsPerDrain)
                {
                    throw new InvalidOperationException(
                        $"One drain ran {MaxAttemptsPerDrain} attempts and jobs are still due: handlers enqueue each other without end ({Describe()}).");
                }

                var acknowledgement = await _processor.ProcessAsync(new RunningJob(job), CancellationToken.None).ConfigureAwait(false);
                if (acknowledgement is null)
                {
                    other++;
                    continue;
                }

                await _store.AcknowledgeManyAsync([acknowledgement], cancellationToken).ConfigureAwait(false);
                switch (acknowledgement.Outcome)
                {
                    case AckOutcome.Succeeded or AckOutcome.Partial:
                        succeeded++;
                        break;
                    case AckOutcome.Retry:
                        retried++;
                        break;
                    case AckOutcome.Failed:
                        failed++;
                        break;
                    default:
                        other++;
                        break;
                }
            }
        }

        return new DrainResult { Succeeded = succeeded, Retried = retried, Failed = failed, Other = other };
    }

    private string Describe()
    {
        var jobs = Jobs;
        if (jobs.Count == 0)
        {
            return "The store holds no job.";
        }

        var text = new StringBuilder($"The store holds {jobs.Count} job(s):");
        foreach (var job in jobs.Take(20))
        {
            text.Append($"{Environment.NewLine}  {job.Type} on '{job.Queue}' ({job.State}, tenant '{job.Tenant}'): {Encoding.UTF8.GetString(job.Payload.Span)}");
        }

        return text.ToString();
    }

    private static void Decorate<TService>(IServiceCollection services, Func<TService, TService> wrap)
        where TService : class
    {
        var inner = services.LastOrDefault(d => d.ServiceType == typeof(TService));
        if (inner is null)
        {
            return;
        }

        services.Remove(inner);
        services.Add(ServiceDescriptor.Describe(typeof(TService), sp => wrap((TService)Create(sp, inner)), inner.Lifetime));
    }

    private static object Create(IServiceProvider services, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(services)
        ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!);
}
