using Conveyor.Storage;

namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Removes the report files whose job is gone: the retention purges a finished job, and its file could no longer be
/// downloaded (the download answers 404 without its job) but stayed on disk for good. A file is looked at once it is
/// older than <see cref="MinimumAge"/> (no job is purged sooner than that by default), at most <see cref="PerPass"/> of
/// them a pass and one pass a minute per process, so that a report job pays nothing noticeable for it; a store that does
/// not answer or a file that cannot be removed ends the pass, never the report.
/// </summary>
public sealed class ReportFiles(SampleDataDirectory data, IJobStore store, TimeProvider timeProvider)
{
    /// <summary>How old a file must be before its job is looked up: the stock retention of a succeeded job.</summary>
    public static readonly TimeSpan MinimumAge = TimeSpan.FromHours(1);

    /// <summary>The most files looked at in one pass.</summary>
    public const int PerPass = 200;

    private static readonly TimeSpan Between = TimeSpan.FromMinutes(1);

    // UtcTicks of the last pass; 0 before the first.
    private long _lastPass;

    /// <summary>Removes the tenant's report files older than <see cref="MinimumAge"/> whose job the store no longer has; unless a pass ran in the last minute.</summary>
    public async Task PruneAsync(string tenant, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var last = Interlocked.Read(ref _lastPass);
        if ((last != 0 && now.UtcTicks - last < Between.Ticks) || Interlocked.CompareExchange(ref _lastPass, now.UtcTicks, last) != last)
        {
            return;
        }

        // No folder of its own under reports/ (a tenant '..'), nothing of this tenant's to look at.
        var directory = data.ReportPath(tenant, "x") is { } any ? Path.GetDirectoryName(any)! : null;
        if (directory is null || !Directory.Exists(directory))
        {
            return;
        }

        var looked = 0;
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            if (looked == PerPass)
            {
                break;
            }

            var written = File.GetLastWriteTimeUtc(file);
            if (now.UtcDateTime - written < MinimumAge)
            {
                continue;
            }

            looked++;
            var jobId = SampleDataDirectory.JobIdOfReportFile(Path.GetFileName(file));
            try
            {
                if (jobId is null || !JobId.IsValid(jobId) || await store.GetAsync(tenant, jobId, cancellationToken) is null)
                {
                    File.Delete(file);
                }
            }
            catch (Exception e) when (e is JobStoreUnavailableException or IOException or UnauthorizedAccessException)
            {
                // Housekeeping never fails the report that ran it: the next pass tries again.
                return;
            }
        }
    }
}
