namespace Conveyor.Storage.Conformance;

/// <summary>The dashboard's filters: last error text, created-at range, every tenant (operators), and their paging.</summary>
public abstract partial class QueryTests
{
    private async Task<string> FailAsync(NewJob job, string message, params string[] earlierMessages)
    {
        var id = await EnqueueAsync(job with { MaxRetry = earlierMessages.Length });
        var attempt = 0;
        foreach (var earlier in earlierMessages)
        {
            var leased = await DequeueOneAsync(job.Queue);
            Assert.True(await AckAsync(Ack(leased, AckOutcome.Retry, Error(++attempt, earlier), retryAt: Now)));
            await Store.PromoteDueAsync(100, Ct);
        }

        var last = await DequeueOneAsync(job.Queue);
        Assert.True(await AckAsync(Ack(last, AckOutcome.Failed, Error(++attempt, message))));
        Time.Advance(TimeSpan.FromMilliseconds(1));
        return id;
    }

    private async Task<List<string>> ListIdsAsync(JobQuery query)
    {
        var ids = new List<string>();
        var pages = 0;
        do
        {
            var page = await Store.ListAsync(query, Ct);
            ids.AddRange(page.Jobs.Select(static j => j.Id));
            query = query with { Cursor = page.NextCursor };
            Assert.True(++pages < 1000, "The cursor never reached the end.");
        }
        while (query.Cursor is not null);

        return ids;
    }

    [Fact]
    public async Task List_ErrorFilter_MatchesTheLastErrorIgnoringCase()
    {
        var timeout = await FailAsync(NewJob(), "Upstream TIMEOUT after 30 s");
        await FailAsync(NewJob(), "disk full");
        var earlierOnly = await FailAsync(NewJob(), "disk full", "timeout talking to upstream");
        await EnqueueAsync();

        var ids = await ListIdsAsync(new JobQuery { Tenant = DefaultTenant, ErrorContains = "timeout", Limit = 1 });

        // The job whose earlier attempt timed out but whose last error is another is not a match.
        Assert.Equal([timeout], ids);
        Assert.DoesNotContain(earlierOnly, ids);
    }

    [Fact]
    public async Task List_ErrorFilter_CombinesWithStateAndPagesThroughEveryMatch()
    {
        var matches = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            matches.Add(await FailAsync(NewJob(), $"connection refused #{i}"));
            await FailAsync(NewJob(), "bad payload");
        }

        var ids = await ListIdsAsync(new JobQuery { Tenant = DefaultTenant, State = JobState.Failed, ErrorContains = "Connection Refused", Limit = 3 });

        Assert.Equal(Enumerable.Reverse(matches), ids);
    }

    [Fact]
    public async Task List_ErrorFilter_IgnoresTheCaseOfAsciiLettersOnly_AndFindsTextWithOtherLetters()
    {
        var job = await FailAsync(NewJob(), "format must be \"csv\"; got \"ÉÇÅ-ǅ-ß-İ-K\"");

        foreach (var text in new[] { "İ", "ß-İ", "İ-k", "-İ-", "GOT \"ÉÇÅ-ǅ-ß-İ-K\"", "ÉÇÅ" })
        {
            Assert.True((await ListIdsAsync(new JobQuery { Tenant = DefaultTenant, ErrorContains = text })).SequenceEqual([job]), text);
        }

        foreach (var text in new[] { "éçå", "ǆ", "ẞ", "-i-" })
        {
            Assert.True((await ListIdsAsync(new JobQuery { Tenant = DefaultTenant, ErrorContains = text })).Count == 0, text);
        }
    }

    [Fact]
    public async Task List_ErrorFilter_TextWithLikeWildcardsIsTakenLiterally()
    {
        var literal = await FailAsync(NewJob(), "100% of quota_used");
        await FailAsync(NewJob(), "100 of quotaXused");

        Assert.Equal([literal], await ListIdsAsync(new JobQuery { Tenant = DefaultTenant, ErrorContains = "% of quota_" }));
    }

    [Fact]
    public async Task List_ErrorFilterWithANul_MatchesNoJob_NotEveryJob()
    {
        await FailAsync(NewJob(), "disk full");
        await FailAsync(NewJob(), "timeout");

        Assert.Empty(await ListIdsAsync(new JobQuery { Tenant = DefaultTenant, ErrorContains = "\0" }));
        Assert.Empty(await ListIdsAsync(new JobQuery { Tenant = DefaultTenant, ErrorContains = "disk\0" }));
    }

    [Fact]
    public async Task Acknowledge_AnErrorMessageWithANul_IsStored_AndTheJobEnds()
    {
        // An exception's message can hold any character; PostgreSQL's jsonb refuses U+0000.
        var id = await FailAsync(NewJob(), "bad byte \0 in the input");

        var job = await GetAsync(id);
        Assert.Equal(JobState.Failed, job.State);
        Assert.StartsWith("bad byte ", Assert.Single(job.Errors).Message, StringComparison.Ordinal);
        Assert.EndsWith(" in the input", job.Errors[0].Message, StringComparison.Ordinal);
        Assert.Equal([id], await ListIdsAsync(new JobQuery { Tenant = DefaultTenant, ErrorContains = "in the input" }));
    }

    [Fact]
    public async Task List_CreatedRange_IsAfterInclusiveAndBeforeExclusive()
    {
        var ids = await EnqueueManyAsync(6);
        var created = new List<DateTimeOffset>();
        foreach (var id in ids)
        {
            created.Add((await GetAsync(id)).CreatedAt);
        }

        var inRange = await ListIdsAsync(new JobQuery { Tenant = DefaultTenant, CreatedAfter = created[1], CreatedBefore = created[4], Limit = 2 });
        var after = await ListIdsAsync(new JobQuery { Tenant = DefaultTenant, CreatedAfter = created[4] });
        var before = await ListIdsAsync(new JobQuery { Tenant = DefaultTenant, CreatedBefore = created[1] });

        Assert.Equal([ids[3], ids[2], ids[1]], inRange);
        Assert.Equal([ids[5], ids[4]], after);
        Assert.Equal([ids[0]], before);
    }

    [Fact]
    public async Task List_CreatedRange_CombinesWithStateTypeAndQueue()
    {
        var from = Now;
        await FailAsync(NewJob(type: "mail:send", queue: "mail"), "smtp down");
        var wanted = await FailAsync(NewJob(type: "mail:send", queue: "mail"), "smtp down");
        var to = Now;
        await FailAsync(NewJob(type: "mail:send", queue: "mail"), "smtp down");
        await EnqueueAsync(NewJob(type: "mail:send", queue: "mail"));

        var ids = await ListIdsAsync(new JobQuery
        {
            Tenant = DefaultTenant, State = JobState.Failed, Type = "mail:send", Queue = "mail",
            CreatedAfter = from.AddMilliseconds(1), CreatedBefore = to,
        });

        Assert.Equal([wanted], ids);
    }

    [Fact]
    public async Task List_EveryTenant_ListsAllTenantsNewestFirstWithPaging()
    {
        var expected = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            expected.Add(await EnqueueAsync(NewJob(tenant: "acme", queue: i % 2 == 0 ? "a" : "b")));
            Time.Advance(TimeSpan.FromMilliseconds(1));
            expected.Add(await EnqueueAsync(NewJob(tenant: "globex", queue: "a")));
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var all = await ListIdsAsync(new JobQuery { Tenant = null, Limit = 3 });
        var oneTenant = await ListIdsAsync(new JobQuery { Tenant = "globex", Limit = 3 });

        Assert.Equal(Enumerable.Reverse(expected), all);
        Assert.Equal(expected.Where((_, i) => i % 2 == 1).Reverse(), oneTenant);
    }

    [Fact]
    public async Task List_EveryTenant_AppliesTheOtherFilters()
    {
        var acmeFailed = await FailAsync(NewJob(tenant: "acme"), "quota");
        var globexFailed = await FailAsync(NewJob(tenant: "globex"), "quota");
        await EnqueueAsync(NewJob(tenant: "acme"));
        await EnqueueAsync(NewJob(tenant: "globex"));

        var failed = await ListIdsAsync(new JobQuery { Tenant = null, State = JobState.Failed, Limit = 1 });
        var byError = await ListIdsAsync(new JobQuery { Tenant = null, ErrorContains = "QUOTA" });

        Assert.Equal([globexFailed, acmeFailed], failed);
        Assert.Equal([globexFailed, acmeFailed], byError);
    }
}
