namespace Conveyor.Storage;

/// <summary>What <see cref="IJobQueryStore.RunBulkAsync"/> does to each job: the single-job command of the same name.</summary>
public enum JobBulkAction
{
    /// <summary><see cref="IJobQueryStore.CancelAsync"/>.</summary>
    Cancel = 0,

    /// <summary><see cref="IJobQueryStore.RequeueAsync"/> (the API's retry).</summary>
    Requeue = 1,

    /// <summary><see cref="IJobQueryStore.DeleteAsync"/>.</summary>
    Delete = 2,
}
