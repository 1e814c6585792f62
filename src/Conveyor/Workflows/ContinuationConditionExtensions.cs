using Conveyor.Storage;

namespace Conveyor.Workflows;

/// <summary>How a <see cref="ContinuationCondition"/> is stored on each dependency.</summary>
internal static class ContinuationConditionExtensions
{
    public static JobDependency ToDependency(this ContinuationCondition condition, string id, bool onBatch = false) => condition switch
    {
        ContinuationCondition.Finished => new JobDependency(id, SuccessOnly: false, onBatch),
        ContinuationCondition.SucceededElseFail => new JobDependency(id, SuccessOnly: true, onBatch, FailIfUnmet: true),
        _ => new JobDependency(id, SuccessOnly: true, onBatch),
    };
}
