namespace Conveyor.Testing.Tests;

public sealed record ArchiveNote(long NoteId) : IJobPayload
{
    public static string JobType => "note:archive";
}

public sealed record NotifyOwner(long NoteId) : IJobPayload
{
    public static string JobType => "note:notify-owner";
}

public sealed record ImportRows(string[] Rows) : IJobPayload
{
    public static string JobType => "rows:import";
}

public sealed record ImportSummary(int Imported);

public sealed record NoteCreated(long NoteId) : IEventPayload
{
    public static string EventType => "note:created";
}

/// <summary>What the handlers did, in order: the handlers' injected dependency.</summary>
public sealed class Journal
{
    private readonly List<string> _entries = [];

    public IReadOnlyList<string> Entries => _entries;

    public int FailuresLeft { get; set; }

    public void Add(string entry) => _entries.Add(entry);
}

/// <summary>Archives a note and enqueues a follow-up; fails while <see cref="Journal.FailuresLeft"/> says so.</summary>
public sealed class ArchiveNoteHandler(Journal journal, IJobClient jobs) : IJobHandler<ArchiveNote>
{
    public async Task HandleAsync(ArchiveNote payload, JobContext context, CancellationToken cancellationToken)
    {
        if (journal.FailuresLeft > 0)
        {
            journal.FailuresLeft--;
            throw new InvalidOperationException("the archive is down");
        }

        journal.Add($"archived {payload.NoteId} (attempt {context.Attempt})");
        await jobs.EnqueueAsync(new NotifyOwner(payload.NoteId), cancellationToken: cancellationToken);
    }
}

public sealed class NotifyOwnerHandler(Journal journal) : IJobHandler<NotifyOwner>
{
    public Task HandleAsync(NotifyOwner payload, JobContext context, CancellationToken cancellationToken)
    {
        journal.Add($"notified {payload.NoteId}");
        return Task.CompletedTask;
    }
}

/// <summary>Reports progress, records bad rows as item errors and sets a result.</summary>
public sealed class ImportRowsHandler : IJobHandler<ImportRows>
{
    public async Task HandleAsync(ImportRows payload, JobContext context, CancellationToken cancellationToken)
    {
        var imported = 0;
        for (var i = 0; i < payload.Rows.Length; i++)
        {
            if (payload.Rows[i].Length == 0)
            {
                context.AddItemError($"row {i + 1}", "empty row");
            }
            else
            {
                imported++;
            }

            await context.ReportProgressAsync((i + 1) * 100 / payload.Rows.Length, cancellationToken);
        }

        context.SetJsonResult(new ImportSummary(imported), resultUrl: "/imports/1.csv");
    }
}

public sealed class IndexNote(Journal journal) : IEventSubscriber<NoteCreated>
{
    public Task HandleAsync(NoteCreated @event, JobContext context, CancellationToken cancellationToken)
    {
        journal.Add($"indexed {@event.NoteId}");
        return Task.CompletedTask;
    }
}

/// <summary>Enqueues itself again every time: a drain must stop it.</summary>
public sealed record Forever(int Round) : IJobPayload
{
    public static string JobType => "loop:forever";
}

public sealed class ForeverHandler(IJobClient jobs) : IJobHandler<Forever>
{
    public Task HandleAsync(Forever payload, JobContext context, CancellationToken cancellationToken) =>
        jobs.EnqueueAsync(new Forever(payload.Round + 1), cancellationToken: cancellationToken);
}
