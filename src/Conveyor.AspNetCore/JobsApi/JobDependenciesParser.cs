using System.Text.Json;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Reads the <c>after</c> of a <c>POST /jobs</c> body: the ids of existing jobs of the caller's tenant the new job waits
/// for (a continuation, <see cref="JobOptions.After"/>). The shape is checked here, each refusal naming the element
/// (<c>after[2]</c>); whether each job exists in the tenant is the store's answer at enqueue. An empty array is a job
/// that waits for none.
/// </summary>
internal static class JobDependenciesParser
{
    public const string Field = "after";

    /// <summary>The most jobs one job waits for: the library's bound, which a workflow step's <c>after</c> has too.</summary>
    public const int MaxAfter = Client.JobOptionsValidator.MaxDependencies;

    private static readonly string Shape = $"an array of at most {MaxAfter} ids of this tenant's jobs, e.g. [\"job_31c8927959d5442e90e3a6bc5a9188ec\"]";

    public static bool TryRead(JsonElement value, out IReadOnlyList<string> after, out ParseError? error)
    {
        after = [];
        if (value.ValueKind != JsonValueKind.Array)
        {
            error = new ParseError(Field, $"must be {Shape}; it is {CreateJobRequestParser.Describe(value.ValueKind)}.");
            return false;
        }

        // Empty, as null or left out, is a job that waits for none: as a workflow step's after, and JobOptions.After.
        var count = value.GetArrayLength();
        if (count > MaxAfter)
        {
            error = new ParseError(Field, $"names {count} jobs; a job waits for at most {MaxAfter}.");
            return false;
        }

        var ids = new List<string>(count);
        foreach (var element in value.EnumerateArray())
        {
            var field = $"{Field}[{ids.Count}]";
            if (element.ValueKind != JsonValueKind.String)
            {
                error = new ParseError(field, $"must be a job id (a string); it is {CreateJobRequestParser.Describe(element.ValueKind)}.");
                return false;
            }

            var id = element.GetString()!;
            if (!JobId.IsValid(id))
            {
                error = new ParseError(field, $"{CreateJobRequestParser.DescribeValue(element)} is not a job id: 1 to {JobId.MaxLength} letters, digits, '_', '-', ':' or '.', e.g. job_31c8927959d5442e90e3a6bc5a9188ec.");
                return false;
            }

            if (ids.IndexOf(id) is var first and >= 0)
            {
                error = new ParseError(field, $"names '{id}' a second time (it is {Field}[{first}] too).");
                return false;
            }

            ids.Add(id);
        }

        after = ids;
        error = null;
        return true;
    }
}
