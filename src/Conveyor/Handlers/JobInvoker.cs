namespace Conveyor.Handlers;

/// <summary>Runs the handler of one job type: turns the payload bytes into what the handler takes and calls it.</summary>
internal abstract class JobInvoker
{
    public abstract string JobType { get; }

    public abstract Task InvokeAsync(JobContext context);
}
