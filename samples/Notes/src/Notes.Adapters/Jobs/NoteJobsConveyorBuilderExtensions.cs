using Microsoft.Extensions.DependencyInjection;

namespace Notes.Adapters.Jobs;

/// <summary>The application's job handlers, registered in one place that the worker and the tests share.</summary>
public static class NoteJobsConveyorBuilderExtensions
{
    public static IConveyorBuilder AddNoteJobs(this IConveyorBuilder conveyor) => conveyor
        .AddHandler<NoteArchiveHandler>();
}
