using System.Buffers;
using System.Text.Json;
using Conveyor.AspNetCore.JobsApi;

namespace Conveyor.AspNetCore.WorkflowsApi;

/// <summary>
/// Reads a <c>POST /workflows</c> body: <c>{"name": ..., "steps": [{"name": "extract", "job": {...}, "after": [...],
/// "on_dependency_failure": "cancel"|"fail"|"run"}, ...], "retention_seconds": n}</c>, each job as <c>POST /jobs</c> takes
/// it. The graph is checked here, before anything is stored, so that every refusal names its field: a step name used
/// twice (<c>steps[3].name</c>), an unknown or repeated dependency (<c>steps[3].after[0]</c>), a cycle (the dependency
/// that closes it, and the cycle in the reason).
/// </summary>
internal static class WorkflowRequestParser
{
    /// <summary>The most steps one request creates (<see cref="WorkflowBuilder"/>'s rule).</summary>
    public const int MaxSteps = WorkflowBuilder.MaxSteps;

    /// <summary>The most steps one step runs after (a job's dependencies, <c>JobOptions.After</c>).</summary>
    public const int MaxAfter = Client.JobOptionsValidator.MaxDependencies;

    /// <summary>The most dependencies over all the steps of one request (<see cref="WorkflowBuilder"/>'s rule).</summary>
    public const int MaxDependencies = WorkflowBuilder.MaxDependencies;

    /// <summary>The longest workflow name (<see cref="WorkflowBuilder"/>'s rule).</summary>
    public const int MaxNameLength = WorkflowBuilder.MaxNameLength;

    /// <summary>The body's nesting depth: a step's job's payload nests as deep as in <c>POST /jobs</c>.</summary>
    public const int MaxDepth = CreateJobRequestParser.MaxDepth + 3;

    public static readonly string[] Fields = ["name", "steps", "retention_seconds"];

    public static readonly string[] StepFields = ["name", "job", "after", "on_dependency_failure"];

    private const string Example = "{\"steps\": [{\"name\": \"extract\", \"job\": {\"type\": \"report:extract\"}}, {\"name\": \"publish\", \"job\": {\"type\": \"report:publish\"}, \"after\": [\"extract\"]}]}";

    public static WorkflowRequest? Parse(ReadOnlySequence<byte> body, DateTimeOffset now, out ParseError? error) =>
        JsonRequest.Read(body, MaxDepth, Example, (JsonElement root, out ParseError? e) => Read(root, now, out e), out error);

    private static WorkflowRequest? Read(JsonElement root, DateTimeOffset now, out ParseError? error)
    {
        if (!JsonRequest.CheckFields(root, "", Fields, "a workflow", out error))
        {
            return null;
        }

        string? name = null;
        if (JsonRequest.TryGetOptional(root, "name", out var nameValue))
        {
            if (nameValue.ValueKind != JsonValueKind.String || nameValue.GetString() is not { Length: > 0 } text || TextLength.Of(text) > MaxNameLength || text.Any(char.IsControl))
            {
                error = new ParseError("name", $"must be a string of 1 to {MaxNameLength} characters without control characters, or null; it is {CreateJobRequestParser.DescribeValue(nameValue)}.");
                return null;
            }

            name = text;
        }

        if (!JsonRequest.TryGetRequiredArray(root, "steps", MaxSteps, "steps", $"is required: an array of 1 to {MaxSteps} steps such as {{\"name\": \"extract\", \"job\": {{\"type\": \"report:extract\"}}, \"after\": []}}.", out var stepsValue, out error))
        {
            return null;
        }

        var steps = new List<WorkflowStepRequest>(stepsValue.GetArrayLength());
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var dependencies = 0;
        foreach (var item in stepsValue.EnumerateArray())
        {
            var path = $"steps[{steps.Count}]";
            if (ReadStep(item, path, now, out error) is not { } step)
            {
                return null;
            }

            dependencies += step.After.Count + (step.Job.Options.After?.Count ?? 0);
            if (dependencies > MaxDependencies)
            {
                error = new ParseError(path + ".after", $"brings the workflow's dependencies to {dependencies}: a workflow's steps wait for at most {MaxDependencies} in total (it is stored in one write).");
                return null;
            }

            if (!byName.TryAdd(step.Name, steps.Count))
            {
                error = new ParseError(path + ".name", $"'{step.Name}' is already the name of steps[{byName[step.Name]}]: step names are unique in a workflow.");
                return null;
            }

            steps.Add(step);
        }

        if (CheckDependencies(steps, byName) is { } graphError)
        {
            error = graphError;
            return null;
        }

        if (!JsonRequest.TryGetOptionalSeconds(root, "retention_seconds", out var retention, out error))
        {
            return null;
        }

        return new WorkflowRequest(name, steps, retention);
    }

    private static WorkflowStepRequest? ReadStep(JsonElement value, string path, DateTimeOffset now, out ParseError? error)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            error = new ParseError(path, $"must be an object such as {{\"name\": \"extract\", \"job\": {{\"type\": \"report:extract\"}}, \"after\": []}}; it is {CreateJobRequestParser.Describe(value.ValueKind)}.");
            return null;
        }

        if (!JsonRequest.CheckFields(value, path, StepFields, "a step", out error))
        {
            return null;
        }

        if (!value.TryGetProperty("name", out var nameValue) || nameValue.ValueKind != JsonValueKind.String || !IsStepName(nameValue.GetString()!))
        {
            error = new ParseError(path + ".name", $"must be a step name: 1 to {WorkflowBuilder.MaxStepNameLength} letters, digits, '_', '-', ':' or '.'; it is {(value.TryGetProperty("name", out _) ? CreateJobRequestParser.DescribeValue(nameValue) : "missing")}.");
            return null;
        }

        if (!value.TryGetProperty("job", out var jobValue))
        {
            error = new ParseError(path + ".job", "is required: the step's job, as POST /jobs takes it, e.g. {\"type\": \"report:extract\"}.");
            return null;
        }

        if (BatchRequestParser.ReadJob(jobValue, path + ".job", now, out error) is not { } job)
        {
            return null;
        }

        var after = new List<string>();
        if (JsonRequest.TryGetOptional(value, "after", out var afterValue))
        {
            if (afterValue.ValueKind != JsonValueKind.Array || afterValue.GetArrayLength() > MaxAfter)
            {
                error = new ParseError(path + ".after", $"must be an array of at most {MaxAfter} step names (or null); it is {(afterValue.ValueKind == JsonValueKind.Array ? $"an array of {afterValue.GetArrayLength()}" : CreateJobRequestParser.Describe(afterValue.ValueKind))}.");
                return null;
            }

            foreach (var dependency in afterValue.EnumerateArray())
            {
                var field = $"{path}.after[{after.Count}]";
                if (dependency.ValueKind != JsonValueKind.String)
                {
                    error = new ParseError(field, $"must be the name of a step of this workflow; it is {CreateJobRequestParser.Describe(dependency.ValueKind)}.");
                    return null;
                }

                var text = dependency.GetString()!;
                if (after.Contains(text, StringComparer.Ordinal))
                {
                    error = new ParseError(field, $"names '{CreateJobRequestParser.Shorten(text)}' a second time.");
                    return null;
                }

                after.Add(text);
            }
        }

        var condition = ContinuationCondition.Succeeded;
        var hasPolicy = JsonRequest.TryGetOptional(value, DependencyFailurePolicy.Field, out var policy);
        if (hasPolicy && !DependencyFailurePolicy.TryRead(policy, path + "." + DependencyFailurePolicy.Field, out condition, out error))
        {
            return null;
        }

        if (after.Count == 0 && hasPolicy)
        {
            // As POST /jobs refuses it: a policy for dependencies the step does not have is a mistake to show.
            error = new ParseError(path + "." + DependencyFailurePolicy.Field, "goes with after: it says what this step does when a step it runs after does not succeed, and this step runs after none.");
            return null;
        }

        error = null;
        return new WorkflowStepRequest(nameValue.GetString()!, job, after, condition);
    }

    /// <summary>The first dependency naming no step of the workflow, or the one that closes a cycle; null for a DAG.</summary>
    private static ParseError? CheckDependencies(List<WorkflowStepRequest> steps, Dictionary<string, int> byName)
    {
        for (var i = 0; i < steps.Count; i++)
        {
            for (var j = 0; j < steps[i].After.Count; j++)
            {
                if (!byName.ContainsKey(steps[i].After[j]))
                {
                    return new ParseError($"steps[{i}].after[{j}]", $"'{CreateJobRequestParser.Shorten(steps[i].After[j])}' is not the name of a step of this workflow.");
                }
            }
        }

        // Depth-first along "runs after": a dependency that leads back to a step still on the path closes a cycle.
        var state = new byte[steps.Count]; // 0 unvisited, 1 on the path, 2 done
        var path = new List<int>();
        for (var start = 0; start < steps.Count; start++)
        {
            if (state[start] == 0 && FindCycle(start) is { } cycle)
            {
                return cycle;
            }
        }

        return null;

        ParseError? FindCycle(int step)
        {
            state[step] = 1;
            path.Add(step);
            for (var j = 0; j < steps[step].After.Count; j++)
            {
                var next = byName[steps[step].After[j]];
                if (state[next] == 1)
                {
                    // In running order, as the library names a cycle: each runs after the one before it.
                    var members = path.Skip(path.IndexOf(next)).Select(k => steps[k].Name).Append(steps[next].Name).Reverse();
                    return new ParseError($"steps[{step}].after[{j}]", $"closes a cycle: the steps wait for each other ({string.Join(" → ", members)}, each running after the one before it).");
                }

                if (state[next] == 0 && FindCycle(next) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[step] = 2;
            return null;
        }
    }

    private static bool IsStepName(string name) =>
        name.Length is > 0 and <= WorkflowBuilder.MaxStepNameLength
        && !name.AsSpan().ContainsAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:.");
}
