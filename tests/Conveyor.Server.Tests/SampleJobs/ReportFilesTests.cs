using Conveyor.Server.SampleJobs;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Server.Tests.SampleJobs;

/// <summary>The report files of purged jobs are removed; a report whose job is still stored stays downloadable.</summary>
public sealed class ReportFilesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-report-files-").FullName;

    [Theory]
    [InlineData("sch:default:nightly:20261206T005300Z")]
    [InlineData("job_0123456789abcdef0123456789abcdef")]
    [InlineData("a%3Ab")]
    public void AReportFileName_HasOnlyCharactersEveryFileSystemTakes_AndGivesItsJobIdBack(string jobId)
    {
        var name = SampleDataDirectory.ReportFileName(jobId);

        // Windows refuses < > : " / \ | ? * in a file name; a scheduled job's id has colons.
        Assert.DoesNotContain(name, c => "<>:\"/\\|?*".Contains(c, StringComparison.Ordinal) || char.IsControl(c));
        Assert.Equal(jobId, SampleDataDirectory.JobIdOfReportFile(name));
        Assert.Equal(jobId, SampleDataDirectory.JobIdOfReportFile(name + ".part"));
    }

    [Fact]
    public async Task Prune_RemovesOldFilesWhoseJobIsGone_KeepsStoredJobsAndYoungFiles_OncePerMinute()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var store = new InMemoryJobStore(time);
        var data = new SampleDataDirectory(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Conveyor:Samples:DataDirectory"] = _directory }).Build());
        var kept = (await store.EnqueueAsync(new NewJob { Id = JobId.New(), Type = GenerateReport.JobType, Queue = "default", Tenant = TenantId.Default, Payload = "{}"u8.ToArray(), MaxRetry = 0, Retention = TimeSpan.FromDays(1) }, CancellationToken.None)).JobId;
        var purged = JobId.New();
        var young = JobId.New();
        var old = time.GetUtcNow().UtcDateTime - ReportFiles.MinimumAge - TimeSpan.FromMinutes(1);
        Write(data.ReportPath(TenantId.Default, kept)!, old);
        Write(data.ReportPath(TenantId.Default, purged)!, old);
        Write(data.ReportPath(TenantId.Default, purged)! + ".part", old);
        Write(data.ReportPath(TenantId.Default, young)!, time.GetUtcNow().UtcDateTime);
        var files = new ReportFiles(data, store, time);

        await files.PruneAsync(TenantId.Default, CancellationToken.None);

        Assert.True(File.Exists(data.ReportPath(TenantId.Default, kept)!));
        Assert.False(File.Exists(data.ReportPath(TenantId.Default, purged)!));
        Assert.False(File.Exists(data.ReportPath(TenantId.Default, purged)! + ".part"));
        Assert.True(File.Exists(data.ReportPath(TenantId.Default, young)!));

        // Within a minute of the last pass nothing is looked at; after it, the next pass runs.
        var later = JobId.New();
        Write(data.ReportPath(TenantId.Default, later)!, old);
        await files.PruneAsync(TenantId.Default, CancellationToken.None);
        Assert.True(File.Exists(data.ReportPath(TenantId.Default, later)!));
        time.Advance(TimeSpan.FromMinutes(1));
        await files.PruneAsync(TenantId.Default, CancellationToken.None);
        Assert.False(File.Exists(data.ReportPath(TenantId.Default, later)!));
    }

    [Fact]
    public async Task Prune_WithTheStoreUnavailable_KeepsTheFiles_AndDoesNotFailTheReport()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var data = new SampleDataDirectory(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Conveyor:Samples:DataDirectory"] = _directory }).Build());
        var path = data.ReportPath(TenantId.Default, JobId.New())!;
        Write(path, time.GetUtcNow().UtcDateTime - ReportFiles.MinimumAge - TimeSpan.FromMinutes(1));

        await new ReportFiles(data, UnavailableStore.Create(), time).PruneAsync(TenantId.Default, CancellationToken.None);

        Assert.True(File.Exists(path));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    public async Task ATenantThatIsNotOneFolderUnderReports_HasNoReportPath_AndItsCleanUpRemovesNothing(string tenant)
    {
        // A store may hold such a tenant from before tenant ids refused it: reports/.. is the data directory itself.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var data = new SampleDataDirectory(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Conveyor:Samples:DataDirectory"] = _directory }).Build());
        var old = time.GetUtcNow().UtcDateTime - ReportFiles.MinimumAge - TimeSpan.FromMinutes(1);
        var database = Path.Combine(_directory, "samples.db");
        var stray = Path.Combine(data.ReportsPath, "stray.csv");
        Write(database, old);
        Write(stray, old);

        await new ReportFiles(data, new InMemoryJobStore(time), time).PruneAsync(tenant, CancellationToken.None);

        Assert.Null(data.ReportPath(tenant, JobId.New()));
        Assert.True(File.Exists(database));
        Assert.True(File.Exists(stray));
        Assert.NotNull(data.ReportPath("a.b", JobId.New()));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A store whose every call fails as one whose server is gone.</summary>
    public class UnavailableStore : System.Reflection.DispatchProxy
    {
        public static IJobStore Create() => Create<IJobStore, UnavailableStore>();

        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args) =>
            throw new JobStoreUnavailableException("The store is gone.", new IOException("connection refused"));
    }

    private static void Write(string path, DateTime writtenAt)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "row\n");
        File.SetLastWriteTimeUtc(path, writtenAt);
    }
}
