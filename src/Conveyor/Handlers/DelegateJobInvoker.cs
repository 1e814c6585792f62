namespace Conveyor.Handlers;

/// <summary>A handler given as a delegate over the raw job, for job types without a payload class.</summary>
internal sealed class DelegateJobInvoker(string jobType, Func<JobContext, CancellationToken, Task> handler) : JobInvoker
{
    public override string JobType => jobType;

    public override Task InvokeAsync(JobContext context) => handler(context, context.CancellationToken);
}
