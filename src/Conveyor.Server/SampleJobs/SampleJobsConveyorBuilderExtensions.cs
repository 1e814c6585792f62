using Conveyor.Server.SampleJobs;

namespace Microsoft.Extensions.DependencyInjection;

internal static class SampleJobsConveyorBuilderExtensions
{
    /// <summary>Registers the sample jobs of the seeds and their dependencies.</summary>
    public static IConveyorBuilder AddSampleJobs(this IConveyorBuilder builder)
    {
        builder.Services.AddSingleton<INoteRepository, InMemoryNoteRepository>();
        return builder
            .AddHandler<NoteArchiveHandler>()
            .AddHandler<DemoSleepHandler>();
    }
}
