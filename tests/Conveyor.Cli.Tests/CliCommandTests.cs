using System.CommandLine;
using System.Text.Json;

namespace Conveyor.Cli.Tests;

public sealed class CliCommandTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<string> EnqueueAsync(string type = "note:archive", string queue = "default")
    {
        var result = await _server.Jobs.EnqueueAsync(type, """{"note_id":1}"""u8.ToArray(), new JobOptions { Tenant = "tenant-a", Queue = queue });
        return result.JobId;
    }

    [Fact]
    public async Task Stats_CountsJobsPerStatusAcrossQueues()
    {
        await EnqueueAsync(queue: "default");
        await EnqueueAsync(queue: "low");

        var run = await _server.RunAsync("stats");

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"queued\s+2", run.Output);
        Assert.Contains("2 queue(s)", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueuesLs_AsJson_IsTheServersAnswer()
    {
        await EnqueueAsync(queue: "low");

        var run = await _server.RunAsync("queues", "ls", "--json");

        Assert.Equal(0, run.ExitCode);
        var low = JsonDocument.Parse(run.Output).RootElement.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "low");
        Assert.Equal(1, low.GetProperty("queued").GetInt64());
    }

    [Fact]
    public async Task QueuesPauseAndResume_ChangeTheQueue_AndAnUnknownQueueIsNotFound()
    {
        await EnqueueAsync(queue: "low");

        var paused = await _server.RunAsync("queues", "pause", "low");
        var listed = await _server.RunAsync("queues", "ls", "--json");
        var resumed = await _server.RunAsync("queues", "resume", "low");
        var unknown = await _server.RunAsync("queues", "pause", "nope");

        Assert.Equal((0, 0), (paused.ExitCode, resumed.ExitCode));
        Assert.Contains("paused", paused.Output, StringComparison.Ordinal);
        Assert.True(JsonDocument.Parse(listed.Output).RootElement.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "low").GetProperty("paused").GetBoolean());
        Assert.Equal(ExitCodes.NotFound, unknown.ExitCode);
        Assert.Contains("404", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsLs_FiltersAndPages_WithACursorToFollow()
    {
        for (var i = 0; i < 3; i++)
        {
            await EnqueueAsync("note:archive");
        }

        await EnqueueAsync("report:generate");

        var first = await _server.RunAsync("jobs", "ls", "--type", "note:archive", "--limit", "2");

        // The last line is the next page's command as it is, filters included, to paste.
        var more = first.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("More: conveyor jobs ls --type note:archive --limit 2 --cursor ", more, StringComparison.Ordinal);
        var second = await _server.RunAsync([.. more["More: conveyor ".Length..].Split(' '), "--json"]);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(2, first.Output.Split('\n').Count(l => l.Contains("tenant-a", StringComparison.Ordinal) && l.Contains("note:archive", StringComparison.Ordinal)));
        Assert.DoesNotContain("report:generate", first.Output, StringComparison.Ordinal);
        var rest = JsonDocument.Parse(second.Output).RootElement;
        Assert.Single(rest.GetProperty("jobs").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next_cursor").ValueKind);
    }

    [Fact]
    public void NextPageCommand_KeepsEveryFilter_QuotesWhatAShellWouldSplit_AndLeavesTheKeyOut()
    {
        var ls = new Command("ls");
        foreach (var name in new[] { "--error", "--tenant", "--limit", "--cursor", "--api-key" })
        {
            ls.Options.Add(new Option<string?>(name));
        }

        var jobs = new Command("jobs");
        jobs.Subcommands.Add(ls);
        var root = new RootCommand();
        root.Subcommands.Add(jobs);
        var parsed = root.Parse(["jobs", "ls", "--error", "it's down", "--tenant", "*", "--cursor", "c1", "--limit", "1", "--api-key", CliServer.AdminKey]);

        var next = Commands.ListPage.NextPage(parsed, "c2");

        Assert.Equal("conveyor jobs ls --error 'it'\\''s down' --tenant '*' --limit 1 --cursor c2 (and your --api-key)", next);
    }

    [Fact]
    public async Task JobsShow_PrintsTheJob_AndAnUnknownIdIsNotFound()
    {
        var id = await EnqueueAsync();

        var shown = await _server.RunAsync("jobs", "show", id);
        var missing = await _server.RunAsync("jobs", "show", "job_doesnotexist");

        Assert.Equal(0, shown.ExitCode);
        Assert.Contains(id, shown.Output, StringComparison.Ordinal);
        Assert.Contains("note_id", shown.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
    }

    // A URL without the API's path prefix reaches a server that answers every path 404: the job is not missing, the
    // address is wrong, and a script must not read it as "gone".
    [Fact]
    public async Task JobsShow_AtAnAddressWithoutTheApi_IsUnreachable_NotAMissingJob()
    {
        var id = await EnqueueAsync();

        var run = await _server.RunAsync("--url", "http://localhost/ops/jobs-api", "jobs", "show", id);

        Assert.Equal(ExitCodes.Unreachable, run.ExitCode);
        Assert.Contains("http://localhost/ops/jobs-api/", run.Error, StringComparison.Ordinal);
        Assert.Contains("path prefix", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsShowAndCancel_OfAnotherTenantsJob_NameItsTenant_WithAnAdminKey()
    {
        var other = await _server.Jobs.EnqueueAsync("note:archive", """{"note_id":2}"""u8.ToArray(), new JobOptions { Tenant = "tenant-b", Queue = "nobody" });

        var ownTenant = await _server.RunAsync("jobs", "show", other.JobId);
        var shown = await _server.RunAsync("jobs", "show", other.JobId, "--tenant", "tenant-b", "--json");
        var cancelled = await _server.RunAsync("jobs", "cancel", other.JobId, "--tenant", "tenant-b");
        var asTenantKey = await _server.RunAsync("jobs", "retry", other.JobId, "--tenant", "tenant-b", "--api-key", CliServer.TenantKey);

        Assert.Equal(ExitCodes.NotFound, ownTenant.ExitCode);
        Assert.True(shown.ExitCode == 0, shown.Error);
        Assert.Equal("tenant-b", JsonDocument.Parse(shown.Output).RootElement.GetProperty("tenant").GetString());
        Assert.True(cancelled.ExitCode == 0, cancelled.Error);
        Assert.Contains("1 done, 0 refused", cancelled.Output, StringComparison.Ordinal);
        Assert.Equal(JobState.Cancelled, (await _server.Jobs.GetJobAsync(other.JobId, "tenant-b"))!.State);
        Assert.NotEqual(0, asTenantKey.ExitCode);
        Assert.Equal(JobState.Cancelled, (await _server.Jobs.GetJobAsync(other.JobId, "tenant-b"))!.State);
    }

    [Fact]
    public async Task JobsEnqueue_StoresTheJob_AndBadInputIsAClearError()
    {
        var created = await _server.RunAsync("jobs", "enqueue", "note:archive", "--payload", """{"note_id": 7}""", "--queue", "low", "--json");
        var notJson = await _server.RunAsync("jobs", "enqueue", "note:archive", "--payload", "{nope");
        var unknownType = await _server.RunAsync("jobs", "enqueue", "nobody:handles", "--payload", "{}");

        Assert.Equal(0, created.ExitCode);
        var id = JsonDocument.Parse(created.Output).RootElement.GetProperty("job_id").GetString()!;
        var job = await _server.Jobs.GetJobAsync(id, "tenant-a");
        Assert.Equal(("low", """{"note_id":7}"""), (job!.Queue, System.Text.Encoding.UTF8.GetString(job.Payload.Span)));
        Assert.Equal(ExitCodes.Usage, notJson.ExitCode);
        Assert.Contains("--payload is not JSON", notJson.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Refused, unknownType.ExitCode);
        Assert.Contains("type", unknownType.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsEnqueue_OnAQueueNoServerServes_SaysTheServersWarning_OnStandardError()
    {
        var created = await _server.RunAsync("jobs", "enqueue", "note:archive", "--payload", """{"note_id": 7}""", "--queue", "parkd");

        Assert.Equal(0, created.ExitCode);
        Assert.Matches(@"^job_\w+ QUEUED\s*$", created.Output);
        Assert.Contains("warning: ", created.Error, StringComparison.Ordinal);
        Assert.Contains("'parkd'", created.Error, StringComparison.Ordinal);
    }

    // An outside run froze Redis while enqueueing: 2 of 7 creates answered 503 and were stored and ran all the same, and
    // a script repeating on exit code 1 could not send the key the 503 told it to repeat with.
    [Fact]
    public async Task JobsEnqueue_WithAnIdempotencyKey_SendsIt_AndARepeatAnswersTheSameJob()
    {
        var sent = new List<string?>();
        _server.Answer = (request, response) =>
        {
            if (request.Method == HttpMethod.Post)
            {
                sent.Add(request.Headers.TryGetValues("Idempotency-Key", out var values) ? string.Join(",", values) : null);
            }

            return response;
        };

        var first = await _server.RunAsync("jobs", "enqueue", "note:archive", "--payload", """{"note_id": 7}""", "--idempotency-key", "import-2026-12-06", "--json");
        var repeat = await _server.RunAsync("jobs", "enqueue", "note:archive", "--payload", """{"note_id": 7}""", "--idempotency-key", "import-2026-12-06", "--json");
        var other = await _server.RunAsync("jobs", "enqueue", "note:archive", "--payload", """{"note_id": 8}""", "--idempotency-key", "import-2026-12-06");
        var bad = await _server.RunAsync("jobs", "enqueue", "note:archive", "--idempotency-key", "clé");

        Assert.True(first.ExitCode == 0, first.Error);
        Assert.True(repeat.ExitCode == 0, repeat.Error);
        Assert.Equal(["import-2026-12-06", "import-2026-12-06", "import-2026-12-06"], sent);
        var id = JsonDocument.Parse(first.Output).RootElement.GetProperty("job_id").GetString();
        Assert.Equal(id, JsonDocument.Parse(repeat.Output).RootElement.GetProperty("job_id").GetString());
        var listed = await _server.RunAsync("jobs", "ls", "--json");
        Assert.Equal(id, Assert.Single(JsonDocument.Parse(listed.Output).RootElement.GetProperty("jobs").EnumerateArray()).GetProperty("job_id").GetString());
        Assert.Equal(ExitCodes.Refused, other.ExitCode);
        Assert.Contains("409", other.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
        Assert.Contains("--idempotency-key", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsEnqueue_AnsweredA503ThatMayHaveStoredIt_SaysSoOnASecondLine_UnlessAKeyWasSent()
    {
        _server.Answer = (request, response) => request.Method == HttpMethod.Post ? StoreOutage.Answer(request) : response;

        var withoutKey = await _server.RunAsync("jobs", "enqueue", "note:archive", "--payload", """{"note_id": 7}""");
        var withKey = await _server.RunAsync("jobs", "enqueue", "note:archive", "--payload", """{"note_id": 7}""", "--idempotency-key", "k1");

        Assert.Equal((ExitCodes.Refused, ExitCodes.Refused), (withoutKey.ExitCode, withKey.ExitCode));
        var lines = withoutKey.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("conveyor: POST /jobs: 503", lines[0], StringComparison.Ordinal);
        Assert.Contains("may have been stored", lines[1], StringComparison.Ordinal);
        Assert.Contains("--idempotency-key", lines[1], StringComparison.Ordinal);
        Assert.Single(withKey.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task JobsEnqueue_ReadsThePayloadFromAFile_OrFromStandardInput()
    {
        var file = Path.Combine(Path.GetTempPath(), $"conveyor-cli-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """{"note_id": 8}""");
        try
        {
            var fromFile = await _server.RunAsync("jobs", "enqueue", "note:archive", "--payload", "@" + file, "--json");
            var fromInput = await _server.RunWithInputAsync("""{"note_id": 9}""", "jobs", "enqueue", "note:archive", "--payload", "@-", "--json");
            var missing = await _server.RunAsync("jobs", "enqueue", "note:archive", "--payload", "@" + file + ".missing");
            var bare = await _server.RunAsync("jobs", "enqueue", "note:archive", "--payload", "@");

            Assert.True(fromFile.ExitCode == 0, fromFile.Error);
            Assert.True(fromInput.ExitCode == 0, fromInput.Error);
            Assert.Equal("""{"note_id":8}""", await PayloadAsync(fromFile));
            Assert.Equal("""{"note_id":9}""", await PayloadAsync(fromInput));
            Assert.Equal(ExitCodes.Usage, missing.ExitCode);
            Assert.Contains(".missing", missing.Error, StringComparison.Ordinal);
            Assert.Equal(ExitCodes.Usage, bare.ExitCode);
            Assert.Contains("give a file after the @", bare.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }

        async Task<string> PayloadAsync(CliRun run)
        {
            var id = JsonDocument.Parse(run.Output).RootElement.GetProperty("job_id").GetString()!;
            return System.Text.Encoding.UTF8.GetString((await _server.Jobs.GetJobAsync(id, "tenant-a"))!.Payload.Span);
        }
    }

    [Fact]
    public async Task JobsCancel_ByIds_AndRetryByFilter_AfterConfirmation()
    {
        var ids = new[] { await EnqueueAsync(), await EnqueueAsync(), await EnqueueAsync("report:generate") };

        var cancelled = await _server.RunAsync("jobs", "cancel", ids[0], ids[1]);
        var declined = await _server.RunWithInputAsync("n\n", "jobs", "retry", "--status", "cancelled");
        var retried = await _server.RunWithInputAsync("y\n", "jobs", "retry", "--status", "cancelled");

        Assert.Equal(0, cancelled.ExitCode);
        Assert.Contains("2 done, 0 refused", cancelled.Output, StringComparison.Ordinal);
        Assert.True(declined.ExitCode == ExitCodes.Usage, declined.Error + declined.Output);
        Assert.Contains("retry 2 job(s) matching status cancelled?", declined.Error, StringComparison.Ordinal);
        Assert.Equal(0, retried.ExitCode);
        foreach (var id in ids)
        {
            Assert.Equal(JobState.Pending, (await _server.Jobs.GetJobAsync(id, "tenant-a"))!.State);
        }
    }

    [Theory]
    [InlineData("retry")]
    [InlineData("cancel")]
    [InlineData("delete")]
    public async Task ABulkActionByFilter_MatchingNoJob_SaysSo_WithoutAsking_AndExits0(string verb)
    {
        await EnqueueAsync(queue: "other");

        var run = await _server.RunWithInputAsync("n\n", "jobs", verb, "--status", "failed");
        var json = await _server.RunAsync("jobs", verb, "--status", "failed", "--json");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        Assert.DoesNotContain("[y/N]", run.Error, StringComparison.Ordinal);
        Assert.Contains($"{verb}: no job matches status failed; nothing to do.", run.Output, StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.Error + json.Output);
        Assert.Equal(0, JsonDocument.Parse(json.Output).RootElement.GetProperty("matched").GetInt64());
    }

    [Fact]
    public async Task JobsLsHelp_ListsEveryStatus_WaitingAmongThem()
    {
        var run = await _server.RunAsync("jobs", "ls", "--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var status in new[] { "queued", "scheduled", "running", "retrying", "waiting", "success", "partial_success", "failed", "cancelled" })
        {
            Assert.Contains(status, run.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task JobsDelete_ByFilter_GoesThroughTheBulkEndpointInBatchesWithProgress()
    {
        var jobs = Enumerable.Range(0, 1_100).Select(_ => (Type: "note:archive", Payload: (ReadOnlyMemory<byte>)"""{"note_id":1}"""u8.ToArray(), Options: new JobOptions { Tenant = "tenant-a", Queue = "bulk" })).ToList();
        foreach (var chunk in jobs.Chunk(250))
        {
            foreach (var job in chunk)
            {
                await _server.Jobs.EnqueueAsync(job.Type, job.Payload, job.Options);
            }
        }

        var kept = await EnqueueAsync(queue: "other");

        var run = await _server.RunAsync("jobs", "delete", "--queue", "bulk", "--status", "queued", "--yes", "--json");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var result = JsonDocument.Parse(run.Output).RootElement;
        Assert.Equal(1_100, result.GetProperty("matched").GetInt64());
        Assert.Equal(1_100, result.GetProperty("succeeded").GetInt64());
        Assert.Equal(0, result.GetProperty("skipped").GetInt64());
        var progress = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, progress.Length);
        Assert.Contains("delete: 1,100 matched, 1,100 done, 0 skipped", progress[^1], StringComparison.Ordinal);
        Assert.NotNull(await _server.Jobs.GetJobAsync(kept, "tenant-a"));
        var left = await _server.Store.ListAsync(new Conveyor.Storage.JobQuery { Tenant = "tenant-a", Queue = "bulk" }, CancellationToken.None);
        Assert.Empty(left.Jobs);
    }

    [Fact]
    public async Task JobsRetry_ByFilter_AJobInTheWrongState_IsSkippedWithExitCode1()
    {
        var queued = await EnqueueAsync(queue: "mixed");
        var cancelled = await EnqueueAsync(queue: "mixed");
        await _server.RunAsync("jobs", "cancel", cancelled);

        var run = await _server.RunAsync("jobs", "retry", "--queue", "mixed", "--yes");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        Assert.Contains("retry: 1 done, 1 refused", run.Output, StringComparison.Ordinal);
        Assert.Equal(JobState.Pending, (await _server.Jobs.GetJobAsync(queued, "tenant-a"))!.State);
        Assert.Equal(JobState.Pending, (await _server.Jobs.GetJobAsync(cancelled, "tenant-a"))!.State);
    }

    [Fact]
    public async Task JobsRetry_AJobInTheWrongState_IsCountedAsRefused_WithExitCode1()
    {
        var id = await EnqueueAsync();

        var run = await _server.RunAsync("jobs", "retry", id, "--json");

        Assert.Equal(ExitCodes.Refused, run.ExitCode);
        var refused = Assert.Single(JsonDocument.Parse(run.Output).RootElement.GetProperty("refused").EnumerateArray());
        Assert.Equal(id, refused.GetProperty("job_id").GetString());
    }

    // An outside run found the per-id refusals on standard output, where the docs say a failure is a line on standard
    // error, and a missing id exiting 1 here but 4 in 'jobs show'.
    [Fact]
    public async Task ABulkActionOnIds_NamesEachRefusalOnStandardError_AndIdsThatNameNoJobExit4()
    {
        var queued = await EnqueueAsync();
        var doomed = await EnqueueAsync();

        var mixed = await _server.RunAsync("jobs", "retry", queued, "job_doesnotexist");
        var mixedJson = await _server.RunAsync("jobs", "retry", queued, "job_doesnotexist", "--json");
        var missing = await _server.RunAsync("jobs", "delete", doomed, "job_doesnotexist");

        Assert.Equal(ExitCodes.Refused, mixed.ExitCode);
        Assert.Equal("retry: 0 done, 2 refused.", mixed.Output.Trim());
        // Besides the progress line ("retry: 2/2").
        var lines = mixed.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => line.StartsWith("conveyor: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.StartsWith($"conveyor: {queued}: POST /jobs/{queued}/retry: 409", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("conveyor: job_doesnotexist: POST /jobs/job_doesnotexist/retry: 404", lines[1], StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Refused, mixedJson.ExitCode);
        Assert.Equal(2, JsonDocument.Parse(mixedJson.Output).RootElement.GetProperty("refused").GetArrayLength());
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
        Assert.Equal("delete: 1 done, 1 refused.", missing.Output.Trim());
        Assert.Contains("job_doesnotexist", missing.Error, StringComparison.Ordinal);
        Assert.Null(await _server.Jobs.GetJobAsync(doomed, "tenant-a"));
    }

    [Fact]
    public async Task JobsDelete_WithoutIdsOrFilter_IsAUsageError()
    {
        var run = await _server.RunAsync("jobs", "delete");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("give job ids (and --tenant for another tenant's), or a filter", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongKey_IsUnauthorized_AndATenantKeyCannotReadQueues()
    {
        var wrong = await _server.RunAsync("jobs", "ls", "--api-key", "not-a-key-0000000000000");
        var tenant = await _server.RunAsync("stats", "--api-key", CliServer.TenantKey);

        Assert.Equal(ExitCodes.Unauthorized, wrong.ExitCode);
        Assert.Contains("401", wrong.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Unauthorized, tenant.ExitCode);
    }

    [Fact]
    public async Task AnUnknownCommandOrOption_IsAUsageError_NamingIt()
    {
        var unknown = await _server.RunAsync("jobs", "frobnicate");
        var badLimit = await _server.RunAsync("jobs", "ls", "--limit", "0");

        Assert.Equal(ExitCodes.Usage, unknown.ExitCode);
        Assert.Contains("frobnicate", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, badLimit.ExitCode);
    }

    [Fact]
    public async Task AServerThatIsNotThere_IsUnreachable_WithExitCode3()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var environment = new CliEnvironment(output, error, new StringReader(""), _ => null);

        var exitCode = await CliApplication.RunAsync(["stats", "--url", "http://127.0.0.1:9"], environment);

        Assert.Equal(ExitCodes.Unreachable, exitCode);
        Assert.Contains("cannot be reached", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadUrl_IsAUsageError()
    {
        var run = await _server.RunAsync("stats", "--url", "ftp://example");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("is not a server URL", run.Error, StringComparison.Ordinal);
    }
}
