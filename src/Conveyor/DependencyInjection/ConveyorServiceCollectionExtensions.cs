using System.Diagnostics.CodeAnalysis;
using Conveyor;
using Conveyor.Client;
using Conveyor.Configuration;
using Conveyor.Diagnostics;
using Conveyor.Handlers;
using Conveyor.Idempotency;
using Conveyor.Middleware;
using Conveyor.Server;
using Conveyor.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Conveyor: <c>services.AddConveyor().UseSqlite().AddHandler&lt;ArchiveNoteHandler&gt;().AddServer();</c></summary>
public static class ConveyorServiceCollectionExtensions
{
    /// <summary>
    /// Registers the client (<see cref="IJobClient"/>), the payload serializer, metrics and the handler registry.
    /// Settings bind from the <c>Conveyor</c> section of the application's configuration (appsettings, environment
    /// variables such as <c>Conveyor__DefaultMaxRetry</c>) and are validated at start. Choose a store next
    /// (<c>UseSqlite</c>, <c>UseRedis</c>, <c>UsePostgres</c>, <c>UseInMemoryStore</c>).
    /// </summary>
    public static IConveyorBuilder AddConveyor(this IServiceCollection services, Action<ConveyorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ConveyorOptions>().BindFromConfigurationIfPresent(ConveyorOptions.SectionName, static (section, o) =>
        {
            try
            {
                section.Bind(o);
                JobTypeRetentionSettings.Bind(section, o.Retention);
            }
            catch (InvalidOperationException) when (ConveyorLimitsOptionsValidator.UnreadableIn(section) is { Count: > 0 } failures)
            {
                // A limit value configuration cannot convert stops the start naming every such value (not only the first).
                throw new OptionsValidationException(ConveyorOptions.SectionName, typeof(ConveyorOptions), failures);
            }
        });
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options
            .Validate(
                o => Enum.IsDefined(o.Events.NoSubscribers),
                "Conveyor:Events:NoSubscribers: use Throw (an event without subscribers is an error at the publish) or Log (it is logged and stores nothing).")
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConveyorOptions>, ConveyorOptionsAttributesValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConveyorOptions>, ConveyorRetentionOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConveyorOptions>, ConveyorMetricsOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConveyorOptions>, ConveyorLimitsOptionsValidator>());
        services.AddOptions<ConveyorJsonOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton(sp => new QueueLabels(sp, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<ConveyorOptions>>().Value.Metrics));
        services.TryAddSingleton<StoreGauges>();
        services.TryAddSingleton(sp => new ConveyorMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetRequiredService<StoreGauges>(), sp.GetRequiredService<QueueLabels>()));
        services.TryAddSingleton<JobPayloadSerializer>();
        services.TryAddSingleton<JobReadySignal>();
        services.TryAddSingleton<PromotionAlarm>();
        services.TryAddSingleton<NewJobFactory>();
        services.TryAddSingleton<IJobClient, JobClient>();
        services.TryAddSingleton<IWorkflowClient, Conveyor.Workflows.WorkflowClient>();
        services.TryAddSingleton<IScheduleClient, Conveyor.Scheduling.ScheduleClient>();
        services.TryAddSingleton<Conveyor.Limits.LimitsInForce>();
        services.TryAddSingleton<Conveyor.Limits.ServedLimitsInProcess>();
        services.TryAddSingleton<IConveyorRateLimiters, ConveyorRateLimiters>();
        services.TryAddSingleton<IRetryPolicy, ExponentialBackoffRetryPolicy>();
        services.TryAddSingleton(sp => new JobHandlerRegistry(sp.GetServices<JobInvoker>(), sp));
        services.TryAddSingleton<IRegisteredJobTypes>(sp => sp.GetRequiredService<JobHandlerRegistry>());
        services.TryAddSingleton<IJobPayloadValidator>(sp => sp.GetRequiredService<JobHandlerRegistry>());
        EventConveyorBuilderExtensions.AddEventPublisher(services);
        // A process without a job server opens the store at start too (schema, migrations, listeners).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, ClientStoreOpener>());
        return new ConveyorBuilder(services);
    }

    /// <summary>Uses the in-memory store: for tests and demos only (jobs live and die with the process).</summary>
    public static IConveyorBuilder UseInMemoryStore(this IConveyorBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.RemoveAll<IJobStore>();
        builder.Services.AddSingleton<IJobStore>(sp => new Conveyor.Storage.InMemory.InMemoryJobStore(sp.GetRequiredService<TimeProvider>()));
        return builder;
    }

    /// <summary>
    /// Registers a handler; its payload type (the <see cref="IJobHandler{TPayload}"/> it implements) names the job type.
    /// Uses no reflection, so it is the form for trimmed and Native AOT applications.
    /// </summary>
    public static IConveyorBuilder AddHandler<TPayload, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this IConveyorBuilder builder)
        where TPayload : IJobPayload
        where THandler : class, IJobHandler<TPayload>
    {
        ArgumentNullException.ThrowIfNull(builder);
        JobType.EnsureValid(TPayload.JobType, nameof(TPayload));
        _ = IdempotencyPolicy.For(typeof(TPayload), typeof(THandler)); // a misplaced [Idempotent] fails here, at registration
        builder.Services.TryAddScoped<THandler>();
        builder.Services.AddSingleton<JobInvoker>(sp => new TypedJobInvoker<TPayload, THandler>(sp.GetRequiredService<JobPayloadSerializer>()));
        return builder;
    }

    /// <summary>
    /// Registers a handler, finding its payload type from the <see cref="IJobHandler{TPayload}"/> it implements
    /// (once, at registration, by reflection; dispatch itself uses none). Native AOT cannot make that generic call
    /// at run time: there, register with <c>AddHandler&lt;TPayload, THandler&gt;()</c>, which needs no reflection.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2060", Justification = "The generic method's only annotated parameter is THandler, which carries the same annotation here.")]
    [RequiresDynamicCode("Finds the payload type by reflection and makes a generic call for it; under Native AOT use AddHandler<TPayload, THandler>().")]
    public static IConveyorBuilder AddHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.Interfaces)] THandler>(this IConveyorBuilder builder)
        where THandler : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        var handlerInterfaces = typeof(THandler).GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IJobHandler<>))
            .ToList();
        if (handlerInterfaces.Count == 0)
        {
            throw new ArgumentException($"{typeof(THandler).Name} does not implement IJobHandler<TPayload>.", nameof(THandler));
        }

        // Under Native AOT the generic call below runs shared code that cannot reach the payload's static JobType: the
        // process died at start with a segmentation fault and no output. Say what to write instead.
        if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
        {
            var forms = string.Join(" and ", handlerInterfaces.Select(i => $"AddHandler<{i.GetGenericArguments()[0].Name}, {typeof(THandler).Name}>()"));
            throw new InvalidOperationException(
                $"AddHandler<{typeof(THandler).Name}>() finds the payload type by reflection, which a Native AOT application cannot run: register the handler with {forms}.");
        }

        foreach (var handlerInterface in handlerInterfaces)
        {
            var payloadType = handlerInterface.GetGenericArguments()[0];
            try
            {
                AddHandlerOfPayloadType.MakeGenericMethod(payloadType, typeof(THandler)).Invoke(null, [builder]);
            }
            catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
            {
                // The registration's own error (a bad job type, a misplaced [Idempotent]), not the reflection's.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            }
        }

        return builder;
    }

    private static System.Reflection.MethodInfo AddHandlerOfPayloadType =>
        field ??= new Func<IConveyorBuilder, IConveyorBuilder>(AddHandler<PayloadStandIn, HandlerStandIn>).Method.GetGenericMethodDefinition();

    // Stand-ins that let the compiler name the two-argument AddHandler without a lookup by name.
    private sealed record PayloadStandIn : IJobPayload
    {
        public static string JobType => "stand-in";
    }

    private sealed class HandlerStandIn : IJobHandler<PayloadStandIn>
    {
        public Task HandleAsync(PayloadStandIn payload, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Registers a handler for a job type without a payload class; it reads <see cref="JobContext.Payload"/> itself.</summary>
    public static IConveyorBuilder AddHandler(this IConveyorBuilder builder, string jobType, Func<JobContext, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(handler);
        JobType.EnsureValid(jobType, nameof(jobType));
        builder.Services.AddSingleton<JobInvoker>(new DelegateJobInvoker(jobType, handler));
        return builder;
    }

    /// <summary>Adds a middleware after the built-in recovery → tracing → metrics → logging, in registration order.</summary>
    public static IConveyorBuilder UseMiddleware<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TMiddleware>(this IConveyorBuilder builder)
        where TMiddleware : class, IJobMiddleware
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TMiddleware>();
        builder.Services.AddSingleton(new MiddlewareRegistration(typeof(TMiddleware)));
        return builder;
    }

    /// <summary>Replaces the retry policy (default: <see cref="ExponentialBackoffRetryPolicy"/>).</summary>
    public static IConveyorBuilder UseRetryPolicy<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TPolicy>(this IConveyorBuilder builder)
        where TPolicy : class, IRetryPolicy
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.RemoveAll<IRetryPolicy>();
        builder.Services.AddSingleton<IRetryPolicy, TPolicy>();
        return builder;
    }

    /// <summary>Changes the JSON settings of payloads and results (e.g. to add a source-generated context).</summary>
    public static IConveyorBuilder ConfigureJson(this IConveyorBuilder builder, Action<ConveyorJsonOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Registers the worker server as a hosted service. Settings bind from <c>Conveyor:Server</c> and are validated
    /// at start. The host's shutdown timeout is raised if needed so that the server's grace period fits in it.
    /// </summary>
    public static IConveyorBuilder AddServer(this IConveyorBuilder builder, Action<JobServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<JobServerOptions>().BindFromConfigurationIfPresent(JobServerOptions.SectionName, static (section, o) => section.Bind(o, static b => b.ErrorOnUnknownConfiguration = true));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobServerOptions>, JobServerOptionsAttributesValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobServerOptions>, JobServerOptionsValidator>());
        HostShutdownTimeout.Register(services);
        services.TryAddSingleton<RecoveryMiddleware>();
        services.TryAddSingleton<TracingMiddleware>();
        services.TryAddSingleton<MetricsMiddleware>();
        services.TryAddSingleton<LoggingMiddleware>();
        services.TryAddSingleton<IdempotencyBeginBatcher>();
        services.TryAddSingleton<IdempotencyMiddleware>();
        services.TryAddSingleton(sp =>
        {
            var registry = sp.GetRequiredService<JobHandlerRegistry>();
            var builtIn = new List<IJobMiddleware> { sp.GetRequiredService<RecoveryMiddleware>(), sp.GetRequiredService<TracingMiddleware>() };
            if (registry.HasIdempotentHandlers)
            {
                // Before metrics and logging: a skipped or snoozed duplicate is not an attempt of the handler.
                builtIn.Add(sp.GetRequiredService<IdempotencyMiddleware>());
            }

            builtIn.Add(sp.GetRequiredService<MetricsMiddleware>());
            builtIn.Add(sp.GetRequiredService<LoggingMiddleware>());
            var custom = sp.GetServices<MiddlewareRegistration>().Select(r => (IJobMiddleware)sp.GetRequiredService(r.MiddlewareType));
            return new JobPipeline(builtIn.Concat(custom).ToList(), registry);
        });
        services.TryAddSingleton<Processor>();
        services.TryAddSingleton(sp => new JobServer(
            sp.GetRequiredService<IJobStore>(),
            sp.GetRequiredService<Processor>(),
            sp.GetRequiredService<JobReadySignal>(),
            sp.GetRequiredService<ConveyorMetrics>(),
            sp.GetRequiredService<IRegisteredJobTypes>(),
            sp.GetRequiredService<IOptions<JobServerOptions>>(),
            sp.GetRequiredService<IOptions<ConveyorOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Logging.ILogger<JobServer>>(),
            sp.GetRequiredService<IJobClient>(),
            sp));
        services.AddHostedService<JobServerLifetime>();
        return builder;
    }
}
