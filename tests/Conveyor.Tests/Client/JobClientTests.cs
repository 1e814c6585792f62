using System.Text;
using Conveyor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Tests.Client;

public sealed class JobClientTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static (IJobClient Client, IJobStore Store, FakeTimeProvider Time) CreateSut(Action<ConveyorOptions>? configure = null)
    {
        var time = new FakeTimeProvider(Now);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddConveyor(configure).UseInMemoryStore();
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<IJobClient>(), provider.GetRequiredService<IJobStore>(), time);
    }

    [Fact]
    public async Task EnqueueAsync_TypedPayload_StoresSnakeCaseJsonUnderThePayloadsJobType()
    {
        var (client, store, _) = CreateSut();

        var result = await client.EnqueueAsync(new ArchiveLike(42, "Q1 notes"));

        var job = await store.GetAsync(TenantId.Default, result.JobId, CancellationToken.None);
        Assert.Equal("sample:archive", job!.Type);
        Assert.Equal("""{"note_id":42,"title":"Q1 notes"}""", Encoding.UTF8.GetString(job.Payload.Span));
    }

    [Fact]
    public async Task EnqueueAsync_RetentionByOutcome_JobOptionsOverTheJobTypeOverTheDefaults()
    {
        var (client, store, time) = CreateSut(o =>
        {
            o.Retention.Failed = TimeSpan.FromDays(30);
            o.Retention.JobTypes["sample:archive"] = new JobTypeRetention { Failed = TimeSpan.FromHours(2), Cancelled = TimeSpan.FromHours(3) };
        });
        var typeDefault = await client.EnqueueAsync(new ArchiveLike(1, "type"));
        var ownOption = await client.EnqueueAsync(new ArchiveLike(2, "own"), new JobOptions { FailedRetention = TimeSpan.FromMinutes(5) });
        var leased = await store.DequeueAsync(new DequeueRequest
        {
            Queues = [new QueueQuota(QueueName.Default, 10)],
            Limit = 10,
            ServerId = "s",
            LeaseDuration = TimeSpan.FromMinutes(1),
        }, CancellationToken.None);
        await store.AcknowledgeManyAsync(
            leased.Select(j => new JobAcknowledgement { JobId = j.Id, LeaseToken = j.LeaseToken, Outcome = AckOutcome.Failed }).ToList(),
            CancellationToken.None);

        time.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(1, await store.PurgeExpiredAsync(100, CancellationToken.None));
        Assert.Null(await store.GetAsync(TenantId.Default, ownOption.JobId, CancellationToken.None));

        time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(1, await store.PurgeExpiredAsync(100, CancellationToken.None));
        Assert.Null(await store.GetAsync(TenantId.Default, typeDefault.JobId, CancellationToken.None));
    }

    [Fact]
    public async Task EnqueueAsync_WithoutOptions_AppliesTheDefaults()
    {
        var (client, store, _) = CreateSut();

        var result = await client.EnqueueAsync(new ArchiveLike(1, "t"));

        Assert.Equal(EnqueueOutcome.Enqueued, result.Outcome);
        Assert.True(JobId.IsGenerated(result.JobId), result.JobId);
        var job = await store.GetAsync(TenantId.Default, result.JobId, CancellationToken.None);
        Assert.Equal(JobState.Pending, job!.State);
        Assert.Equal(QueueName.Default, job.Queue);
        Assert.Equal(ConveyorOptions.DefaultMaxRetryValue, job.MaxRetry);
        Assert.Equal(TimeSpan.FromHours(1), job.Retention);
        Assert.Equal(Now, job.CreatedAt);
    }

    [Fact]
    public async Task EnqueueAsync_WithEveryOption_StoresThem()
    {
        var (client, store, _) = CreateSut();
        var options = new JobOptions
        {
            Queue = "reports",
            MaxRetry = 3,
            Timeout = TimeSpan.FromMinutes(2),
            Deadline = Now.AddHours(1),
            ProcessIn = TimeSpan.FromMinutes(5),
            Retention = TimeSpan.FromHours(6),
            JobId = "report-2026-03",
            Tenant = "acme",
        };

        var result = await client.EnqueueAsync(new ArchiveLike(1, "t"), options);

        var job = await store.GetAsync("acme", "report-2026-03", CancellationToken.None);
        Assert.Equal(JobState.Scheduled, result.State);
        Assert.Equal(("reports", 3, TimeSpan.FromMinutes(2), Now.AddHours(1), Now.AddMinutes(5), TimeSpan.FromHours(6)),
            (job!.Queue, job.MaxRetry, job.Timeout, job.Deadline, job.ScheduledAt, job.Retention));
    }

    [Fact]
    public async Task QueueHelpers_EnqueueToTheirQueue()
    {
        var (client, store, _) = CreateSut();

        var critical = await client.EnqueueCriticalAsync(new ArchiveLike(1, "c"));
        var normal = await client.EnqueueDefaultAsync(new ArchiveLike(2, "d"), new JobOptions { Queue = "ignored" });
        var low = await client.EnqueueLowAsync(new ArchiveLike(3, "l"));

        Assert.Equal([QueueName.Critical, QueueName.Default, QueueName.Low], [critical.Queue, normal.Queue, low.Queue]);
        Assert.Equal(QueueName.Low, (await store.GetAsync(TenantId.Default, low.JobId, CancellationToken.None))!.Queue);
    }

    [Fact]
    public async Task EnqueueAsync_DuplicateUniqueKeyWhileTheFirstLives_IsRefusedWithATypedResult()
    {
        var (client, _, time) = CreateSut();
        var options = new JobOptions { UniqueKey = "note-42", UniqueFor = TimeSpan.FromMinutes(10) };

        var first = await client.EnqueueAsync(new ArchiveLike(42, "a"), options);
        var duplicate = await client.EnqueueAsync(new ArchiveLike(42, "a"), options);
        time.Advance(TimeSpan.FromMinutes(11));
        var afterTtl = await client.EnqueueAsync(new ArchiveLike(42, "a"), options);

        Assert.False(first.IsDuplicate);
        Assert.Equal(EnqueueOutcome.DuplicateUniqueKey, duplicate.Outcome);
        Assert.Equal(first.JobId, duplicate.JobId);
        Assert.False(afterTtl.IsDuplicate);
    }

    [Fact]
    public async Task EnqueueManyAsync_StoresEveryJob_InOneCall_WithOneResultEach()
    {
        var (client, store, _) = CreateSut();

        var results = await client.EnqueueManyAsync(Enumerable.Range(1, 100).Select(i => new ArchiveLike(i, "bulk")), new JobOptions { Queue = QueueName.Low });

        Assert.Equal(100, results.Count);
        Assert.Equal(100, results.Select(r => r.JobId).Distinct().Count());
        Assert.Equal(100, (await store.GetQueueStatsAsync(CancellationToken.None)).Single(q => q.Queue == QueueName.Low).Pending);
    }

    public static TheoryData<JobOptions, string> InvalidOptions => new()
    {
        { new JobOptions { MaxRetry = -1 }, "MaxRetry" },
        { new JobOptions { MaxRetry = 1_000_000 }, "MaxRetry" },
        { new JobOptions { Queue = "no spaces" }, "Queue" },
        { new JobOptions { Queue = ".." }, "Queue" },
        { new JobOptions { Queue = "." }, "Queue" },
        { new JobOptions { Timeout = TimeSpan.Zero }, "Timeout" },
        { new JobOptions { Deadline = Now.AddSeconds(-1) }, "Deadline" },
        { new JobOptions { UniqueKey = "k" }, "UniqueFor" },
        { new JobOptions { UniqueKey = "a\0b", UniqueFor = TimeSpan.FromMinutes(1) }, "UniqueKey" },
        { new JobOptions { JobId = "has/slash" }, "JobId" },
        { new JobOptions { Tenant = "" }, "Tenant" },
        { new JobOptions { Tenant = "." }, "Tenant" },
        { new JobOptions { Tenant = ".." }, "Tenant" },
        { new JobOptions { ProcessIn = TimeSpan.FromSeconds(-5) }, "ProcessIn" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public async Task EnqueueAsync_InvalidOption_ThrowsNamingTheOption_AndWritesNothing(JobOptions options, string option)
    {
        var (client, store, _) = CreateSut();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueAsync(new ArchiveLike(1, "t"), options));

        Assert.Contains("JobOptions." + option, error.Message, StringComparison.Ordinal);
        Assert.Empty(await store.GetQueueStatsAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("")]
    [InlineData("noaction")]
    [InlineData("Upper:case")]
    [InlineData("a:b:c")]
    public async Task EnqueueAsync_InvalidJobType_ThrowsWithTheExpectedShape(string jobType)
    {
        var (client, _, _) = CreateSut();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueAsync(jobType, "{}"u8.ToArray()));

        Assert.Contains("{domain}:{action}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnqueueAsync_PayloadOverTheLimit_IsRefusedNamingTheSetting()
    {
        var (client, store, _) = CreateSut(o => o.MaxPayloadBytes = 16);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueAsync(new ArchiveLike(1, "a title longer than sixteen bytes")));

        Assert.Contains("Conveyor:MaxPayloadBytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(await store.GetQueueStatsAsync(CancellationToken.None));
    }

    internal sealed record ArchiveLike(long NoteId, string Title) : IJobPayload
    {
        public static string JobType => "sample:archive";
    }
}
