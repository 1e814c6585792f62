using Conveyor.Storage;

namespace Conveyor.Workflows;

/// <summary>
/// Checks a <see cref="WorkflowBuilder"/>'s steps (names, duplicates, unknown names, cycles, one tenant) and orders them
/// so that every step comes after those it runs after, which is the order the stores need to link a list stored
/// together. Every refusal is an <see cref="ArgumentException"/> thrown before anything is stored.
/// </summary>
internal static class WorkflowGraph
{
    public static (IReadOnlyList<NewJob> Jobs, WorkflowDefinition Definition) Build(WorkflowBuilder workflow, string batchId)
    {
        var steps = workflow.Steps;
        if (steps.Count == 0)
        {
            throw new ArgumentException("A workflow needs at least one step.", nameof(workflow));
        }

        if (steps.Count > WorkflowBuilder.MaxSteps)
        {
            throw new ArgumentException($"{steps.Count} steps is too many: a workflow has at most {WorkflowBuilder.MaxSteps}.", nameof(workflow));
        }

        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var jobIds = new HashSet<string>(StringComparer.Ordinal);
        var tenant = steps[0].Job.Tenant;
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (!IsValidName(step.Name))
            {
                throw new ArgumentException(
                    $"'{step.Name}' is not a step name: use 1 to {WorkflowBuilder.MaxStepNameLength} letters, digits, '_', '-', ':' or '.'.", nameof(workflow));
            }

            if (!byName.TryAdd(step.Name, i))
            {
                throw new ArgumentException($"Step '{step.Name}' is added twice: step names are unique in a workflow.", nameof(workflow));
            }

            if (!jobIds.Add(step.Job.Id))
            {
                throw new ArgumentException($"Step '{step.Name}' reuses job '{step.Job.Id}' of another step: create one job per step.", nameof(workflow));
            }

            if (!string.Equals(step.Job.Tenant, tenant, StringComparison.Ordinal))
            {
                throw new ArgumentException($"The steps of a workflow belong to one tenant: '{step.Name}' is of '{step.Job.Tenant}', not '{tenant}'.", nameof(workflow));
            }

            if (step.Job.BatchId is not null)
            {
                throw new ArgumentException($"Step '{step.Name}' already belongs to batch '{step.Job.BatchId}'.", nameof(workflow));
            }

            if (!Enum.IsDefined(step.Condition))
            {
                throw new ArgumentException($"Step '{step.Name}': {step.Condition} is not a condition: use Succeeded, Finished or SucceededElseFail.", nameof(workflow));
            }
        }

        var dependencies = 0;
        foreach (var step in steps)
        {
            dependencies += step.After.Count + step.Job.DependsOn.Count;
            if (dependencies > WorkflowBuilder.MaxDependencies)
            {
                throw new ArgumentException(
                    $"The steps up to '{step.Name}' wait for {dependencies} jobs in total: a workflow has at most {WorkflowBuilder.MaxDependencies} dependencies (it is stored in one write).", nameof(workflow));
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var after in step.After)
            {
                if (after is null || !byName.ContainsKey(after))
                {
                    throw new ArgumentException($"Step '{step.Name}' runs after '{after}', which is not a step of this workflow.", nameof(workflow));
                }

                if (!seen.Add(after))
                {
                    throw new ArgumentException($"Step '{step.Name}' names '{after}' twice in its after list.", nameof(workflow));
                }
            }

            if (step.After.Count + step.Job.DependsOn.Count > Client.JobOptionsValidator.MaxDependencies)
            {
                throw new ArgumentException($"Step '{step.Name}' waits for {step.After.Count + step.Job.DependsOn.Count} jobs: at most {Client.JobOptionsValidator.MaxDependencies}.", nameof(workflow));
            }
        }

        var order = TopologicalOrder(steps, byName);
        var jobs = new NewJob[steps.Count];
        var definition = new WorkflowStepDefinition[steps.Count];
        for (var k = 0; k < order.Length; k++)
        {
            var step = steps[order[k]];
            var dependsOn = step.Job.DependsOn.Concat(step.After.Select(a => step.Condition.ToDependency(steps[byName[a]].Job.Id))).ToArray();
            jobs[k] = step.Job with { BatchId = batchId, DependsOn = dependsOn };
            definition[k] = new WorkflowStepDefinition(step.Name, step.Job.Id, step.After.ToArray());
        }

        return (jobs, new WorkflowDefinition(workflow.Name, definition));
    }

    /// <summary>Kahn's algorithm, keeping the order the steps were added among those ready; a cycle is named in the error.</summary>
    private static int[] TopologicalOrder(IReadOnlyList<WorkflowStep> steps, Dictionary<string, int> byName)
    {
        var waiting = new int[steps.Count];
        var dependants = new List<int>[steps.Count];
        for (var i = 0; i < steps.Count; i++)
        {
            dependants[i] = [];
        }

        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var after in steps[i].After)
            {
                dependants[byName[after]].Add(i);
                waiting[i]++;
            }
        }

        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < steps.Count; i++)
        {
            if (waiting[i] == 0)
            {
                ready.Enqueue(i, i);
            }
        }

        var order = new List<int>(steps.Count);
        while (ready.TryDequeue(out var next, out _))
        {
            order.Add(next);
            foreach (var dependant in dependants[next])
            {
                if (--waiting[dependant] == 0)
                {
                    ready.Enqueue(dependant, dependant);
                }
            }
        }

        if (order.Count < steps.Count)
        {
            throw new ArgumentException($"The workflow's steps wait for each other in a cycle: {DescribeCycle(steps, byName, waiting)}.", "workflow");
        }

        return [.. order];
    }

    /// <summary>One cycle among the steps left waiting, as "a → b → c → a" (each runs after the next one's predecessor).</summary>
    private static string DescribeCycle(IReadOnlyList<WorkflowStep> steps, Dictionary<string, int> byName, int[] waiting)
    {
        // Every step left has a dependency that is also left: walk back along them until a step repeats.
        var path = new List<int>();
        var position = new Dictionary<int, int>();
        var current = Array.FindIndex(waiting, w => w > 0);
        while (!position.ContainsKey(current))
        {
            position[current] = path.Count;
            path.Add(current);
            current = steps[current].After.Select(a => byName[a]).First(d => waiting[d] > 0);
        }

        // In running order (each runs after the one before it), from the step added first.
        var members = path.Skip(position[current]).Reverse().ToList();
        var start = members.IndexOf(members.Min());
        var cycle = members.Skip(start).Concat(members.Take(start)).Select(i => steps[i].Name).ToList();
        cycle.Add(cycle[0]);
        return string.Join(" → ", cycle);
    }

    private static bool IsValidName(string name) =>
        name.Length is > 0 and <= WorkflowBuilder.MaxStepNameLength
        && name.AsSpan().ContainsAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:.") is false;
}
