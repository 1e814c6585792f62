using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore.Tests;

public sealed class CreateJobTests
{
    [Fact]
    public async Task Post_ValidJob_Returns202WithIdStatusCreatedAtAndLocation()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostJobAsync("""{"type": "test:noop", "payload": {"note_id": 42}}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await ProblemAssert.ReadJsonAsync(response);
        var jobId = body.GetProperty("job_id").GetString()!;
        Assert.True(JobId.IsGenerated(jobId), jobId);
        Assert.Equal("QUEUED", body.GetProperty("status").GetString());
        Assert.Matches(new Regex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"), body.GetProperty("created_at").GetString());
        Assert.Equal("/jobs/" + jobId, response.Headers.Location!.OriginalString);
        var stored = Assert.Single(await app.StoredJobsAsync());
        Assert.Equal("""{"note_id":42}""", System.Text.Encoding.UTF8.GetString(stored.Payload.Span));
        Assert.Equal(TenantId.Default, stored.Tenant);
    }

    [Fact]
    public async Task Post_ManyAtOnce_StoresEachJobOnce_WithItsOwnAnswer()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["EnqueueBatchSize"] = "16", ["RateLimit:Enabled"] = "false" });

        var ids = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => app.CreateAsync(extra: $", \"queue\": \"q{i % 3}\"")));

        Assert.Equal(200, ids.Distinct().Count());
        var stored = await app.StoredJobsAsync();
        Assert.Equal(ids.Order(), stored.Select(j => j.Id).Order());
    }

    [Fact]
    public async Task Post_WithOptions_StoresThem()
    {
        await using var app = await TestApp.StartAsync();
        var processAt = DateTimeOffset.UtcNow.AddHours(1);

        using var response = await app.PostJobAsync($$"""
            {"type": "test:noop", "queue": "critical", "max_retry": 2, "timeout_seconds": 30, "retention_seconds": 60,
             "process_at": "{{processAt:yyyy-MM-ddTHH:mm:ssZ}}", "unique_key": "k-1", "unique_for_seconds": 600}
            """);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("SCHEDULED", (await ProblemAssert.ReadJsonAsync(response)).GetProperty("status").GetString());
        var stored = Assert.Single(await app.StoredJobsAsync());
        Assert.Equal("critical", stored.Queue);
        Assert.Equal(2, stored.MaxRetry);
        Assert.Equal(TimeSpan.FromSeconds(30), stored.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(60), stored.Retention);
        Assert.Equal("k-1", stored.UniqueKey);
        Assert.Equal("{}", System.Text.Encoding.UTF8.GetString(stored.Payload.Span));
    }

    [Fact]
    public async Task Post_SameUniqueKeyWhileTheFirstIsUnfinished_Returns409NamingTheHolder()
    {
        await using var app = await TestApp.StartAsync();
        var first = await app.CreateAsync(extra: """, "unique_key": "daily", "unique_for_seconds": 600""");

        using var response = await app.PostJobAsync("""{"type": "test:noop", "unique_key": "daily", "unique_for_seconds": 600}""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Contains(first, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Single(await app.StoredJobsAsync());
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "{\"type\": ", "body" },
        { "not json at all", "body" },
        { "[1, 2]", "body" },
        { "\"note:archive\"", "body" },
        { "", "body" },
        { "{}", "type" },
        { "{\"payload\": {}}", "type" },
        { "{\"type\": \"\"}", "type" },
        { "{\"type\": null}", "type" },
        { "{\"type\": 42}", "type" },
        { "{\"type\": \"NoColon\"}", "type" },
        { "{\"type\": \"unknown:job\"}", "type" },
        { "{\"type\": \"test:noop\", \"max_retry\": -1}", "max_retry" },
        { "{\"type\": \"test:noop\", \"max_retry\": 1000000}", "max_retry" },
        { "{\"type\": \"test:noop\", \"max_retry\": 1e300}", "max_retry" },
        { "{\"type\": \"test:noop\", \"max_retry\": 2.5}", "max_retry" },
        { "{\"type\": \"test:noop\", \"max_retry\": 1e-308}", "max_retry" },
        { "{\"type\": \"test:noop\", \"max_retry\": 2.99999999999999999999999999999}", "max_retry" },
        { "{\"type\": \"test:noop\", \"max_retry\": \"3\"}", "max_retry" },
        { "{\"type\": \"test:noop\", \"process_at\": \"tomorrow\"}", "process_at" },
        { "{\"type\": \"test:noop\", \"process_at\": \"2030-01-31\"}", "process_at" },
        { "{\"type\": \"test:noop\", \"process_at\": 1767225600}", "process_at" },
        { "{\"type\": \"test:noop\", \"deadline\": \"2001-01-01T00:00:00Z\"}", "deadline" },
        { "{\"type\": \"test:noop\", \"queue\": \"no spaces\"}", "queue" },
        { "{\"type\": \"test:noop\", \"queue\": 7}", "queue" },
        { "{\"type\": \"test:noop\", \"timeout_seconds\": 0}", "timeout_seconds" },
        { "{\"type\": \"test:noop\", \"timeout_seconds\": -5}", "timeout_seconds" },
        { "{\"type\": \"test:noop\", \"timeout_seconds\": 1e-8}", "timeout_seconds" },
        { "{\"type\": \"test:noop\", \"timeout_seconds\": 0.0009}", "timeout_seconds" },
        { "{\"type\": \"test:noop\", \"unique_key\": \"k\", \"unique_for_seconds\": 1e-300}", "unique_for_seconds" },
        { "{\"type\": \"test:noop\", \"process_in_seconds\": -1e-9}", "process_in_seconds" },
        { "{\"type\": \"test:noop\", \"process_in_seconds\": 1e400}", "process_in_seconds" },
        { "{\"type\": \"test:noop\", \"retention_seconds\": 1e12}", "retention_seconds" },
        { "{\"type\": \"test:noop\", \"unique_key\": \"k\"}", "unique_for_seconds" },
        { "{\"type\": \"test:noop\", \"unique_for_seconds\": 5}", "unique_key" },
        { "{\"type\": \"test:noop\", \"unique_key\": \"a\\u0000b\", \"unique_for_seconds\": 10}", "unique_key" },
        { "{\"type\": \"test:noop\", \"priority\": 1}", "priority" },
        { "{\"type\": \"test:noop\", \"type\": \"test:noop\"}", "type" },
        { "{\"type\": \"test:noop\", \"payload\": {\"rows\": 5, \"rows\": 7}}", "payload.rows" },
        { "{\"\\ud800\": 1}", "body" },
        { "{\"type\": \"test:noop\", \"payload\": {\"a\": {\"\\ud800\": 1}}}", "body" },
        { "{\"type\": \"test:noop\", \"payload\": {\"items\": [{\"a\": 1}, {\"a\": 1, \"a\": 1}]}}", "payload.items[1].a" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Post_BadBody_Returns400NamingTheField_AndWritesNothing(string body, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostJobAsync(body);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Theory]
    [InlineData("timeout_seconds", "1e-8", "")]
    [InlineData("unique_for_seconds", "0.00000001", ", \"unique_key\": \"k\"")]
    public async Task Post_DurationTooSmallToBeADuration_NamesTheFieldWithAMessageForPeople(string field, string value, string extra)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostJobAsync($$"""{"type": "test:noop", "{{field}}": {{value}}{{extra}}}""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal($"{field}: must be at least 0.001 (one millisecond); it is {value}.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public void ClientOptionRefusal_IsTranslatedToTheBodyField()
    {
        var (field, reason) = JobsApi.CreateJobRequestParser.FieldOf(new ArgumentException("JobOptions.Deadline: 2030-01-01T00:00:00Z has already passed.", "options"));

        Assert.Equal("deadline", field);
        Assert.Equal("2030-01-01T00:00:00Z has already passed.", reason);
    }

    [Fact]
    public async Task Post_PayloadOverTheLimit_Returns413NamingThePayload_AndWritesNothing()
    {
        await using var app = await TestApp.StartAsync(services: s => s.Configure<ConveyorOptions>(o => o.MaxPayloadBytes = 1000));

        using var response = await app.PostJobAsync($$$"""{"type": "test:noop", "payload": {"text": "{{{new string('x', 1000)}}}"}}""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("payload", problem.GetProperty("field").GetString());
        Assert.Contains("Conveyor:MaxPayloadBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_BodyOverTheRequestLimit_Returns413_AndWritesNothing()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxRequestBytes"] = "2048" });

        using var response = await app.PostJobAsync($$$"""{"type": "test:noop", "payload": {"text": "{{{new string('x', 4096)}}}"}}""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("body", problem.GetProperty("field").GetString());
        Assert.Matches(@"^body: \d{4} bytes; the limit \(Conveyor:Api:MaxRequestBytes\) is 2048 bytes\.$", problem.GetProperty("detail").GetString());
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_ChunkedBodyOverTheRequestLimit_Returns413()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["MaxRequestBytes"] = "2048" });
        var bytes = System.Text.Encoding.UTF8.GetBytes($$"""{"type": "test:noop", "payload": "{{new string('x', 10_000)}}"}""");
        using var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await app.Client.PostAsync("/jobs", content);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Matches(@"^body: (at least )?\d{4,} bytes; the limit \(Conveyor:Api:MaxRequestBytes\) is 2048 bytes\.$", problem.GetProperty("detail").GetString());
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_NotJson_Returns415()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.Client.PostAsync("/jobs", new StringContent("type=test:noop", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Theory]
    [InlineData("gzip", true)]
    [InlineData("gzip", false)]
    [InlineData("br", false)]
    [InlineData("identity, deflate", false)]
    public async Task Post_CompressedBody_Returns415NamingTheIdentityCoding_AndStoresNothing(string coding, bool compressed)
    {
        await using var app = await TestApp.StartAsync();
        var json = """{"type": "test:noop", "payload": {"n": 1}}"""u8.ToArray();
        var bytes = json;
        if (compressed)
        {
            using var buffer = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(json);
            }

            bytes = buffer.ToArray();
        }

        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.TryAddWithoutValidation("Content-Encoding", coding);
        using var response = await app.Client.PostAsync("/jobs", content);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Contains(coding.Split(',')[^1].Trim(), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("identity", response.Headers.TryGetValues("Accept-Encoding", out var accepted) ? string.Join(",", accepted) : null);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_IdentityCoding_IsTheBodyAsSent()
    {
        await using var app = await TestApp.StartAsync();
        using var content = new StringContent("""{"type": "test:noop"}""", System.Text.Encoding.UTF8, "application/json");
        content.Headers.ContentEncoding.Add("identity");

        using var response = await app.Client.PostAsync("/jobs", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Post_ConfiguredJobTypeWithoutLocalHandler_IsAccepted()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["JobTypes:0"] = "remote:work" });

        var jobId = await app.CreateAsync("remote:work");

        Assert.Equal("remote:work", (await app.GetJobAsync(jobId)).GetProperty("type").GetString());
    }
}
