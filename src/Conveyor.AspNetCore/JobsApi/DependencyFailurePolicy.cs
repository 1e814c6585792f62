using System.Text.Json;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// <c>on_dependency_failure</c>, as a workflow step and a <c>POST /jobs</c> continuation both say it: what a job that
/// waits for others does when one of them did not succeed. <c>cancel</c> is <see cref="ContinuationCondition.Succeeded"/>
/// (the default), <c>fail</c> is <see cref="ContinuationCondition.SucceededElseFail"/>, <c>run</c> is
/// <see cref="ContinuationCondition.Finished"/>.
/// </summary>
internal static class DependencyFailurePolicy
{
    public const string Field = "on_dependency_failure";

    /// <summary>The values, in the order of <see cref="Conditions"/>.</summary>
    public static readonly string[] Names = ["cancel", "fail", "run"];

    private static readonly ContinuationCondition[] Conditions = [ContinuationCondition.Succeeded, ContinuationCondition.SucceededElseFail, ContinuationCondition.Finished];

    /// <summary>
    /// The condition <paramref name="value"/> names; false with a refusal of <paramref name="field"/> for anything else.
    /// The callers read null as absent ("cancel"), as for every optional field, before asking.
    /// </summary>
    public static bool TryRead(JsonElement value, string field, out ContinuationCondition condition, out ParseError? error)
    {
        var index = value.ValueKind == JsonValueKind.String ? Array.IndexOf(Names, value.GetString()) : -1;
        if (index < 0)
        {
            condition = ContinuationCondition.Succeeded;
            error = new ParseError(field, $"must be one of {string.Join(", ", Names.Select(static p => $"\"{p}\""))}; it is {CreateJobRequestParser.DescribeValue(value)}.");
            return false;
        }

        condition = Conditions[index];
        error = null;
        return true;
    }
}
