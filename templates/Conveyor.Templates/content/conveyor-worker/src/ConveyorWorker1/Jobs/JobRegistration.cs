using Conveyor;

namespace ConveyorWorker1.Jobs;

/// <summary>The jobs this worker runs, registered in one place that the worker and the tests share.</summary>
public static class JobRegistration
{
    public static IConveyorBuilder AddJobs(this IConveyorBuilder conveyor) => conveyor
        .AddHandler<SendWelcomeEmailHandler>();
}
