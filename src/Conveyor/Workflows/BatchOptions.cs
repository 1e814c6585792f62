using Conveyor.Storage;

namespace Conveyor;

/// <summary>How <see cref="IWorkflowClient.StartBatchAsync"/> creates a batch.</summary>
public sealed record BatchOptions
{
    /// <summary>
    /// A job (built with <see cref="IJobClient.CreateJob{TPayload}"/>) enqueued when every job of the batch has
    /// succeeded; cancelled when one failed or was cancelled. Its payload may name the batch only if the caller chose
    /// <see cref="BatchId"/>; the handler reads it from <see cref="JobInfo.DependsOn"/> otherwise.
    /// </summary>
    public NewJob? OnSuccess { get; init; }

    /// <summary>A job enqueued when every job of the batch has finished, whatever the outcomes.</summary>
    public NewJob? OnComplete { get; init; }

    /// <summary>The batch's id (<c>batch_</c> and 32 lowercase hex digits, <see cref="Conveyor.BatchId.New"/>); a new one when null.</summary>
    public string? BatchId { get; init; }

    /// <summary>How long the batch's record stays readable after its last job finished. Default 7 days.</summary>
    public TimeSpan? Retention { get; init; }
}
