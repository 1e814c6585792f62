using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Conveyor.AspNetCore.Tests;

/// <summary><c>GET /jobs/{id}/steps</c>: a job's durable steps, its signals and its waits, tenant-isolated.</summary>
public sealed class JobStepsTests
{
    [Fact]
    public async Task Steps_ShowTheFinishedStepAndTheWait_ThenTheSignalThatEndedIt()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var jobId = await app.CreateAsync("test:steps");
        await app.WaitForStatusAsync(jobId, null, "SCHEDULED");

        var parked = await GetStepsAsync(app, jobId);
        Assert.Equal(jobId, parked.GetProperty("job_id").GetString());
        var before = parked.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal([("step", "draft"), ("wait", "approved")], before.Select(s => (s.GetProperty("kind").GetString(), s.GetProperty("name").GetString())));
        Assert.Equal("""{"words":3}""", before[0].GetProperty("result").GetRawText());
        Assert.Equal(1, before[0].GetProperty("attempt").GetInt32());
        Assert.True(DateTimeOffset.TryParse(before[1].GetProperty("result").GetString(), CultureInfo.InvariantCulture, out var until), "the wait's deadline is a time");
        Assert.InRange(until, DateTimeOffset.UtcNow.AddMinutes(50), DateTimeOffset.UtcNow.AddMinutes(61));
        Assert.True(DateTimeOffset.TryParse(before[0].GetProperty("completed_at").GetString(), out _));

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/jobs/{jobId}/signals/approved") { Content = TestApp.Json("""{"by":"ada"}""") };
        (await app.Client.SendAsync(request)).Dispose();
        await app.WaitForStatusAsync(jobId, null, "SUCCESS");

        var signal = Assert.Single((await GetStepsAsync(app, jobId)).GetProperty("steps").EnumerateArray(), s => s.GetProperty("kind").GetString() == "signal");
        Assert.Equal("approved", signal.GetProperty("name").GetString());
        Assert.Equal("""{"by":"ada"}""", signal.GetProperty("result").GetRawText());
        Assert.False(signal.TryGetProperty("timed_out", out _));
    }

    [Fact]
    public async Task Steps_OfAJobThatHasNone_IsAnEmptyList()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync();

        Assert.Empty((await GetStepsAsync(app, jobId)).GetProperty("steps").EnumerateArray());
    }

    [Fact]
    public async Task Steps_OfAnotherTenantsJob_Is404_AndOfAnUnknownJob_404_AndOfABadId_400()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var jobId = await app.CreateAsync("test:noop", TestApp.KeyA);

        using var mine = await app.SendAsync(HttpMethod.Get, $"/jobs/{jobId}/steps", TestApp.KeyA);
        using var theirs = await app.SendAsync(HttpMethod.Get, $"/jobs/{jobId}/steps", TestApp.KeyB);
        using var unknown = await app.SendAsync(HttpMethod.Get, "/jobs/job_00000000000000000000000000000000/steps", TestApp.KeyA);
        using var bad = await app.SendAsync(HttpMethod.Get, "/jobs/not%20an%20id/steps", TestApp.KeyA);

        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        await ProblemAssert.IsProblemAsync(theirs, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(unknown, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(bad, HttpStatusCode.BadRequest);
    }

    private static async Task<JsonElement> GetStepsAsync(TestApp app, string jobId)
    {
        using var response = await app.SendAsync(HttpMethod.Get, $"/jobs/{jobId}/steps");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ProblemAssert.ReadJsonAsync(response);
    }
}
