namespace Notes.Adapters.Jobs;

/// <summary>The job types of this application, <c>{domain}:{action}</c> in lowercase, in one place.</summary>
public static class JobTypes
{
    public const string NoteArchive = "note:archive";

    // Next ones, for example:
    // public const string NoteExport = "note:export";
}
