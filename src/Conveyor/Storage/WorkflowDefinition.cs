namespace Conveyor.Storage;

/// <summary>
/// What makes a batch a workflow: its name and its steps, each a job of the batch with the names of the steps it runs
/// after. Stores keep it with the batch as it is given (<see cref="NewBatch.Workflow"/>) and return it with the batch
/// (<see cref="BatchInfo.Workflow"/>); the dependencies themselves are the jobs' <see cref="NewJob.DependsOn"/>.
/// </summary>
/// <param name="Name">The workflow's name for people (not unique), or null.</param>
/// <param name="Steps">The steps in an order where every step comes after those it runs after.</param>
public sealed record WorkflowDefinition(string? Name, IReadOnlyList<WorkflowStepDefinition> Steps);

/// <summary>One step of a <see cref="WorkflowDefinition"/>.</summary>
/// <param name="Name">The step's name, unique in its workflow.</param>
/// <param name="JobId">The id of the job that runs the step.</param>
/// <param name="After">The names of the steps it runs after (empty for a first step).</param>
public sealed record WorkflowStepDefinition(string Name, string JobId, IReadOnlyList<string> After);
