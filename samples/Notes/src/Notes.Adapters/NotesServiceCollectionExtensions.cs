using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Notes.Adapters.Jobs;
using Notes.Adapters.Persistence;
using Notes.Domain;
using Notes.UseCases;
using Notes.UseCases.Ports;

namespace Notes.Adapters;

/// <summary>The application wired to its adapters: the same for both entry points (the API and the worker).</summary>
public static class NotesServiceCollectionExtensions
{
    /// <summary>The use cases, the notes in the SQLite file <c>Notes:Database</c> (default notes.db) and the jobs port over Conveyor.</summary>
    public static IServiceCollection AddNotes(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var database = configuration["Notes:Database"] ?? "notes.db";
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<INoteRepository>(new SqliteNoteRepository(database));
        services.AddSingleton<INoteJobs, ConveyorNoteJobs>();
        services.AddTransient<CreateNoteUseCase>();
        services.AddTransient<RequestNoteArchiveUseCase>();
        services.AddTransient<ArchiveNoteUseCase>();
        return services;
    }
}
