namespace Conveyor.Storage;

/// <summary>
/// Something a waiting job waits for: a job, or a whole batch (<see cref="OnBatch"/>), of the same tenant. The
/// dependency is resolved by the transition that finishes it, in the same atomic step of the store.
/// </summary>
/// <param name="Id">The job's or the batch's id.</param>
/// <param name="SuccessOnly">
/// True: the waiting job runs only if the dependency succeeded (a job succeeded or partly succeeded; every job of a
/// batch did), and is cancelled otherwise. False: it runs once the dependency finished, whatever the outcome.
/// </param>
/// <param name="OnBatch">True when <paramref name="Id"/> names a batch (its callbacks wait for it), false for a job.</param>
/// <param name="FailIfUnmet">
/// With <paramref name="SuccessOnly"/>: when the dependency did not succeed, the waiting job is <b>failed</b> (state
/// <see cref="JobState.Failed"/>, no attempt counted, an error naming the dependency) instead of cancelled, so it
/// lands among the failed jobs an operator watches and can retry. Ignored without <paramref name="SuccessOnly"/>.
/// </param>
public sealed record JobDependency(string Id, bool SuccessOnly, bool OnBatch = false, bool FailIfUnmet = false)
{
    /// <summary>True when an unsuccessful dependency fails the waiting job (rather than cancelling it).</summary>
    public bool FailsDependant => SuccessOnly && FailIfUnmet;
}
