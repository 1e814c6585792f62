using System.Net;
using Conveyor.Storage;

namespace Conveyor.AspNetCore.Tests;

/// <summary>What POST /jobs checks before it answers 202: the payload against its type, contradictory options, the queue.</summary>
public sealed class EnqueueValidationTests
{
    [Theory]
    [InlineData("""{"noteId": 42}""", "payload.noteId", "is not a property of TestNote, which has: note_id, title")]
    [InlineData("""{"note_id": 42, "titel": "x"}""", "payload.titel", "is not a property of TestNote")]
    [InlineData("""{"note_id": "forty-two"}""", "payload.note_id", "must be a whole number from -9223372036854775808 to 9223372036854775807 (TestNote declares it as long)")]
    [InlineData("""{"note_id": 10.5}""", "payload.note_id", "must be a whole number from -9223372036854775808 to 9223372036854775807 (TestNote declares it as long)")]
    [InlineData("""{"note_id": 42, "title": 7}""", "payload.title", "must be a string (TestNote declares it as string)")]
    [InlineData("""[42]""", "payload", "must be a JSON object for TestNote")]
    [InlineData("\"forty-two\"", "payload", "must be a JSON object for TestNote")]
    public async Task Post_PayloadThatDoesNotFitItsType_Returns400NamingTheField_AndWritesNothing(string payload, string field, string mentioned)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostJobAsync($$"""{"type": "test:note", "payload": {{payload}}}""");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Contains(mentioned, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Theory]
    [InlineData("test:note", """{"note_id": 42, "title": "x"}""")]
    [InlineData("test:note", """{}""")]
    [InlineData("test:lenient", """{"note_id": 42, "extra": true}""")]
    [InlineData("test:noop", """{"anything": ["goes"]}""")]
    public async Task Post_PayloadThatFits_OrATypeWithoutPayloadClass_Returns202(string type, string payload)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostJobAsync($$"""{"type": "{{type}}", "payload": {{payload}}}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    public static TheoryData<string, string> ContradictoryOptions
    {
        get
        {
            var soon = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ");
            var later = DateTimeOffset.UtcNow.AddHours(2).ToString("yyyy-MM-ddTHH:mm:ssZ");
            return new()
            {
                { $$""", "process_at": "{{soon}}", "process_in_seconds": 60""", "process_in_seconds" },
                { $$""", "process_at": "{{later}}", "deadline": "{{soon}}" """, "process_at" },
                { $$""", "process_in_seconds": 7200, "deadline": "{{soon}}" """, "process_in_seconds" },
            };
        }
    }

    [Theory]
    [MemberData(nameof(ContradictoryOptions))]
    public async Task Post_ContradictoryOptions_Returns400NamingTheField(string options, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostJobAsync($$"""{"type": "test:noop"{{options}}}""");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_ToAQueueNoServerServes_IsAccepted_WithAWarning()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        await WaitForServerAsync(app.Store);

        using var served = await app.PostJobAsync("""{"type": "test:noop", "queue": "critical"}""");
        using var unserved = await app.PostJobAsync("""{"type": "test:noop", "queue": "nobody-serves-this"}""");

        Assert.Equal(HttpStatusCode.Accepted, served.StatusCode);
        Assert.False((await ProblemAssert.ReadJsonAsync(served)).TryGetProperty("warnings", out _));
        Assert.Equal(HttpStatusCode.Accepted, unserved.StatusCode);
        var warning = Assert.Single((await ProblemAssert.ReadJsonAsync(unserved)).GetProperty("warnings").EnumerateArray()).GetString();
        Assert.Contains("'nobody-serves-this'", warning, StringComparison.Ordinal);
        Assert.Contains("critical", warning, StringComparison.Ordinal);
        Assert.Equal(2, (await app.StoredJobsAsync()).Count);
    }

    [Fact]
    public async Task BatchesAndWorkflows_WithJobsInAQueueNoServerServes_AreStored_WithAWarningPerQueue()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        await WaitForServerAsync(app.Store);
        const string Served = """{"type": "test:noop", "queue": "critical"}""";
        const string Unserved = """{"type": "test:noop", "queue": "nobody-serves-this"}""";

        using var batch = await app.PostAsync("/batches", $$"""{"jobs": [{{Unserved}}, {{Served}}, {{Unserved}}], "on_complete": {{Served}}}""");
        var batchBody = await ProblemAssert.ReadJsonAsync(batch);
        using var served = await app.PostAsync("/batches", $$"""{"jobs": [{{Served}}]}""");
        var servedBody = await ProblemAssert.ReadJsonAsync(served);

        // Added to the first batch, which its jobs that no server runs keep running.
        using var added = await app.PostAsync($"/batches/{batchBody.GetProperty("batch_id").GetString()}/jobs", $$"""{"jobs": [{{Unserved}}]}""");
        using var workflow = await app.PostAsync("/workflows", $$"""{"steps": [{"name": "a", "job": {{Served}}}, {"name": "b", "job": {{Unserved}}, "after": ["a"]}]}""");

        Assert.False(servedBody.TryGetProperty("warnings", out _));
        Assert.Equal(HttpStatusCode.Created, batch.StatusCode);
        foreach (var body in new[] { batchBody, await ProblemAssert.ReadJsonAsync(added), await ProblemAssert.ReadJsonAsync(workflow) })
        {
            var warning = Assert.Single(body.GetProperty("warnings").EnumerateArray()).GetString();
            Assert.Contains("'nobody-serves-this'", warning, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal(HttpStatusCode.Created, workflow.StatusCode);
    }

    [Fact]
    public async Task Post_WithNoServerRunning_IsAccepted_WithAWarning()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostJobAsync("""{"type": "test:noop"}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var warnings = (await ProblemAssert.ReadJsonAsync(response)).GetProperty("warnings");
        Assert.Contains("No server is running", warnings[0].GetString(), StringComparison.Ordinal);
    }

    private static async Task WaitForServerAsync(IJobStore store)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await store.ListServersAsync(CancellationToken.None)).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the server never registered");
            await Task.Delay(20);
        }
    }
}
