namespace Conveyor.Testing;

/// <summary>What a <see cref="TestJobContext"/> says about the attempt: the values a handler may read from its context.</summary>
public sealed record TestJobOptions
{
    /// <summary>The job id; a new one when not set.</summary>
    public string? JobId { get; init; }

    /// <summary>The queue; <c>default</c> when not set.</summary>
    public string Queue { get; init; } = QueueName.Default;

    /// <summary>The tenant; the default tenant when not set.</summary>
    public string Tenant { get; init; } = TenantId.Default;

    /// <summary>Which attempt this is, from 1. <c>Attempt &gt; MaxRetry</c> makes it the last one.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>How many retries the job has after its first attempt.</summary>
    public int MaxRetry { get; init; } = 3;

    /// <summary>The job's deadline, if it has one.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>The batch the job is a member of (<see cref="JobContext.BatchId"/>); null for none.</summary>
    public string? BatchId { get; init; }

    /// <summary>The services the handler's context offers (<see cref="JobContext.Services"/>); an empty provider when not set.</summary>
    public IServiceProvider? Services { get; init; }

    /// <summary>
    /// Steps a previous attempt finished, by name, with their JSON results: <see cref="JobContext.RunStepAsync{TResult}(string, Func{CancellationToken, ValueTask{TResult}})"/>
    /// returns them without running the step, as after a retry.
    /// </summary>
    public IReadOnlyDictionary<string, string>? FinishedSteps { get; init; }

    /// <summary>
    /// Signals already delivered to the job, by name, with their JSON payloads: <see cref="JobContext.WaitForSignalAsync(string, TimeSpan, CancellationToken)"/>
    /// returns them at once. A wait for a signal not here ends the attempt with <see cref="JobSuspendedException"/>, as it
    /// parks the job in a real run (a zero timeout returns null instead).
    /// </summary>
    public IReadOnlyDictionary<string, string>? Signals { get; init; }

    /// <summary>The clock item errors are stamped with; the system clock when not set.</summary>
    public TimeProvider? TimeProvider { get; init; }
}
