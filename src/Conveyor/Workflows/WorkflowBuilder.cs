using Conveyor.Storage;

namespace Conveyor;

/// <summary>
/// A workflow to start with <see cref="IWorkflowClient.StartWorkflowAsync"/>: named steps, each a job (built with
/// <see cref="IJobClient.CreateJob{TPayload}"/>) that runs after the steps it names. The steps are stored together or
/// not at all, as one batch whose id is the workflow's; a step starts when every step it runs after has succeeded.
/// </summary>
/// <example>
/// <code>
/// var workflow = new WorkflowBuilder("monthly-report")
///     .Add("extract", jobs.CreateJob(new Extract(month)))
///     .Add("sales", jobs.CreateJob(new Summarise("sales")), after: ["extract"])
///     .Add("costs", jobs.CreateJob(new Summarise("costs")), after: ["extract"])
///     .Add("report", jobs.CreateJob(new Publish(month)), after: ["sales", "costs"]);
/// var started = await workflows.StartWorkflowAsync(workflow);
/// </code>
/// </example>
public sealed class WorkflowBuilder
{
    /// <summary>
    /// Most steps in one workflow. A workflow is stored in one atomic write whose time grows with its steps (0.1–0.5 s
    /// for 1,000 on a busy 2-core machine) and its dependencies: a write of seconds holds the store while the leases of
    /// jobs running on other servers expire, and those jobs run again. Larger work goes in several workflows, or in a
    /// batch, which can be added to while it runs.
    /// </summary>
    public const int MaxSteps = 1_000;

    /// <summary>
    /// Most dependencies in one workflow, over all its steps (each step's <c>after</c> list and its job's own
    /// dependencies), for the same reason as <see cref="MaxSteps"/>: 95,000 held the store for 1–9 s.
    /// </summary>
    public const int MaxDependencies = 10_000;

    /// <summary>The longest workflow name, in characters (Unicode code points: an emoji is one).</summary>
    public const int MaxNameLength = 200;

    /// <summary>The longest step name.</summary>
    public const int MaxStepNameLength = 100;

    private readonly List<WorkflowStep> _steps = [];

    /// <summary>A workflow with an optional name for people (shown by the API and the dashboard; need not be unique).</summary>
    public WorkflowBuilder(string? name = null)
    {
        if (name is not null && (TextLength.Of(name) is 0 or > MaxNameLength || name.Any(char.IsControl)))
        {
            throw new ArgumentException($"A workflow's name has 1 to {MaxNameLength} characters and no control characters.", nameof(name));
        }

        Name = name;
    }

    /// <summary>The workflow's name, or null.</summary>
    public string? Name { get; }

    /// <summary>The workflow's id (a batch id: <c>batch_</c> and 32 lowercase hex digits, <see cref="BatchId.New"/>); a new one when null.</summary>
    public string? WorkflowId { get; init; }

    /// <summary>How long the workflow's record stays readable after its last step finished. Default 7 days.</summary>
    public TimeSpan? Retention { get; init; }

    /// <summary>The steps added so far, in the order added.</summary>
    public IReadOnlyList<WorkflowStep> Steps => _steps;

    /// <summary>
    /// Adds a step: <paramref name="job"/> runs after every step of <paramref name="after"/> (names of steps of this
    /// workflow, added before or after this one) has succeeded. When one of them does not succeed the step is cancelled
    /// (<see cref="ContinuationCondition.Succeeded"/>, the default), failed (<see cref="ContinuationCondition.SucceededElseFail"/>)
    /// or run anyway (<see cref="ContinuationCondition.Finished"/>), as <paramref name="condition"/> says; what runs after
    /// it follows by its own condition. The job may also wait for jobs outside the workflow (<see cref="JobOptions.After"/>).
    /// Names, cycles and dependencies are checked when the workflow starts.
    /// </summary>
    /// <returns>This builder.</returns>
    public WorkflowBuilder Add(string name, NewJob job, IReadOnlyList<string>? after = null, ContinuationCondition condition = ContinuationCondition.Succeeded)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(job);
        _steps.Add(new WorkflowStep(name, job, after ?? [], condition));
        return this;
    }
}

/// <summary>A step of a <see cref="WorkflowBuilder"/>.</summary>
/// <param name="Name">Unique in the workflow: 1 to 100 letters, digits, '_', '-', ':' or '.'.</param>
/// <param name="Job">The job that runs the step.</param>
/// <param name="After">The names of the steps it runs after.</param>
/// <param name="Condition">What a step that did not succeed among <paramref name="After"/> does to this one.</param>
public sealed record WorkflowStep(string Name, NewJob Job, IReadOnlyList<string> After, ContinuationCondition Condition);
