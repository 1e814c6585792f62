namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Where the sample jobs keep their own data: <c>Conveyor:Samples:DataDirectory</c>, or else the directory of the SQLite
/// store's file (the server's data directory, <c>Conveyor:DataDirectory</c>, for the other stores). Holds <c>samples.db</c> (the imported inventory) and
/// <c>reports/{tenant}/{job_id}.csv</c> and <c>outbox/notifications.log</c>.
/// </summary>
public sealed class SampleDataDirectory
{
    public SampleDataDirectory(IConfiguration configuration)
    {
        var configured = configuration["Conveyor:Samples:DataDirectory"];
        var sqlite = string.Equals(StoreSelection.Configured(configuration), "sqlite", StringComparison.Ordinal);
        Path = System.IO.Path.GetFullPath(
            !string.IsNullOrEmpty(configured) ? configured
            : sqlite ? System.IO.Path.GetDirectoryName(DataDirectory.SqlitePath(configuration))!
            : DataDirectory.Resolve(configuration));
        if (!string.IsNullOrEmpty(configured))
        {
            // Checked at start as Conveyor:DataDirectory is: a place that cannot hold the samples' files otherwise failed
            // only their jobs, each attempt naming a file and not the setting.
            try
            {
                Directory.CreateDirectory(Path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidSettingException(
                    $"Conveyor:Samples:DataDirectory {Path} cannot be created ({e.Message}); set it to a writable directory, or leave it unset to keep the samples' files beside the store's.");
            }
        }
    }

    public string Path { get; }

    public string DatabasePath => System.IO.Path.Combine(Path, "samples.db");

    /// <summary>The notifications the idempotent sample (note:notify) "sent", one line each: key, job id, attempt.</summary>
    public string OutboxPath => System.IO.Path.Combine(Path, "outbox", "notifications.log");

    /// <summary>The folder of every tenant's reports.</summary>
    public string ReportsPath => System.IO.Path.Combine(Path, "reports");

    /// <summary>
    /// The report file of one job; the tenant is part of the path, so one tenant's file is never another's. Null when
    /// the tenant is not one folder right under <see cref="ReportsPath"/> or the id not one file in it: a tenant '..'
    /// (stored before tenant ids refused it) would otherwise write into the data directory itself, and the clean-up
    /// of its folder would remove the files there.
    /// </summary>
    public string? ReportPath(string tenant, string jobId)
    {
        var folder = System.IO.Path.GetFullPath(System.IO.Path.Combine(ReportsPath, tenant));
        var file = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, ReportFileName(jobId)));
        return string.Equals(System.IO.Path.GetDirectoryName(folder), ReportsPath, StringComparison.Ordinal)
            && string.Equals(System.IO.Path.GetDirectoryName(file), folder, StringComparison.Ordinal)
            ? file
            : null;
    }

    /// <summary>
    /// A job's report file name: its id percent-encoded, so that an id with characters a file system refuses (a scheduled
    /// job's <c>sch:default:nightly:20261206T005300Z</c> on Windows) still names one file of its own.
    /// </summary>
    public static string ReportFileName(string jobId) => Uri.EscapeDataString(jobId) + ".csv";

    /// <summary>The job id of a report file name (<see cref="ReportFileName"/>, or its <c>.part</c>); null for any other file.</summary>
    public static string? JobIdOfReportFile(string fileName)
    {
        var encoded = fileName.EndsWith(".csv.part", StringComparison.Ordinal) ? fileName[..^".csv.part".Length]
            : fileName.EndsWith(".csv", StringComparison.Ordinal) ? fileName[..^".csv".Length] : null;
        return encoded is null ? null : Uri.UnescapeDataString(encoded);
    }
}
