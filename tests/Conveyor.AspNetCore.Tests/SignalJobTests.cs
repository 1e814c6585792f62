using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.AspNetCore.Tests;

/// <summary><c>POST /jobs/{id}/signals/{name}</c>: delivered, resumed, refused, tenant-isolated.</summary>
public sealed class SignalJobTests
{
    private const string UnknownId = "job_00000000000000000000000000000000";

    private static async Task<HttpResponseMessage> SignalAsync(TestApp app, string path, string? body, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (body is not null)
        {
            request.Content = TestApp.Json(body);
        }

        if (key is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        return await app.Client.SendAsync(request);
    }

    [Fact]
    public async Task Signal_ToAJobWaitingForIt_Returns202_AndTheJobResumesWithThePayload()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var jobId = await app.CreateAsync("test:approval");
        var parked = await app.WaitForStatusAsync(jobId, null, "SCHEDULED");
        Assert.Equal(0, parked.GetProperty("attempts").GetInt32());
        Assert.StartsWith("Waiting for signal 'approved' until ", parked.GetProperty("snoozed_reason").GetString(), StringComparison.Ordinal);

        using var response = await SignalAsync(app, $"/jobs/{jobId}/signals/approved", """{"by":"ada"}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"/jobs/{jobId}", response.Headers.Location!.OriginalString);
        var job = await app.WaitForStatusAsync(jobId, null, "SUCCESS");
        Assert.Equal("""{"by":"ada"}""", job.GetProperty("result").GetRawText());
        Assert.Equal(1, job.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task AParkedJobCancelled_NoLongerShowsWhyItWaited()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var jobId = await app.CreateAsync("test:approval");
        await app.WaitForStatusAsync(jobId, null, "SCHEDULED");

        (await app.SendAsync(HttpMethod.Post, $"/jobs/{jobId}/cancel")).Dispose();

        var job = await app.WaitForStatusAsync(jobId, null, "CANCELLED");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, job.GetProperty("snoozed_reason").ValueKind);
    }

    [Fact]
    public async Task Signal_BeforeTheJobRuns_IsKept_AndTheJobNeverParks()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync("test:approval");

        using var response = await SignalAsync(app, $"/jobs/{jobId}/signals/approved", "");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("QUEUED", (await ProblemAssert.ReadJsonAsync(response)).GetProperty("status").GetString());
        var steps = await app.Services.GetRequiredService<Conveyor.Storage.IJobStore>().GetStepsAsync(TenantId.Default, jobId, CancellationToken.None);
        Assert.Equal("null", Encoding.UTF8.GetString(Assert.Single(steps!).Result.Span));
    }

    [Fact]
    public async Task Signal_Twice_Returns409_AndKeepsTheFirst()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync("test:approval");
        (await SignalAsync(app, $"/jobs/{jobId}/signals/approved", "1")).Dispose();

        using var response = await SignalAsync(app, $"/jobs/{jobId}/signals/approved", "2");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Contains("first one wins", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signal_ToAFinishedJob_Returns409()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var jobId = await app.CreateAsync();
        await app.WaitForStatusAsync(jobId, null, "SUCCESS");

        using var response = await SignalAsync(app, $"/jobs/{jobId}/signals/approved", "true");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Contains("SUCCESS", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signal_ToAJobPastItsDeadline_Returns409SayingSo_AndStoresNothing()
    {
        // No worker has failed the job yet: only its deadline says that it will never read the signal.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
        await using var app = await TestApp.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
        var deadline = time.GetUtcNow().AddMinutes(5);
        var jobId = await app.CreateAsync("test:approval", extra: $", \"deadline\": \"{deadline.ToString("O", CultureInfo.InvariantCulture)}\"");
        time.Advance(TimeSpan.FromMinutes(5));

        using var response = await SignalAsync(app, $"/jobs/{jobId}/signals/approved", "true");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal("The job's deadline has passed.", problem.GetProperty("title").GetString());
        Assert.Contains("deadline 2026-06-01T00:05:00", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("QUEUED", (await app.GetJobAsync(jobId)).GetProperty("status").GetString());
        Assert.Empty((await app.Store.GetStepsAsync(TenantId.Default, jobId, CancellationToken.None))!);
    }

    [Fact]
    public async Task Signal_ToAnUnknownJob_Returns404()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await SignalAsync(app, $"/jobs/{UnknownId}/signals/approved", "true");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Signal_OverTheSignalPayloadLimit_Is413NamingThatLimit_NotTheRequestSetting()
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync("test:approval");

        using var response = await SignalAsync(app, $"/jobs/{jobId}/signals/approved", $"\"{new string('x', Conveyor.Storage.JobSignal.MaxPayloadBytes)}\"");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(Conveyor.Storage.JobSignal.MaxPayloadBytes, problem.GetProperty("limit").GetInt32());
        Assert.Contains("a signal's largest payload", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("approved", "{not json", "payload")]
    [InlineData("approved", "1 2", "payload")]
    [InlineData("approved", "{\"by\": \"\\ud800\"}", "payload")]
    [InlineData("approved", "{\"by\": \"ada\", \"by\": \"bob\"}", "payload.by")]
    [InlineData("approved", "{\"by\": {\"x\": 1, \"x\": 2}}", "payload.by.x")]
    [InlineData("approved", "[{\"x\": 1, \"x\": 2}]", "payload[0].x")]
    [InlineData("approved", " \r\n\t", "payload")]
    [InlineData("has%20space", "true", "name")]
    public async Task Signal_BadNameOrPayload_Returns400_AndStoresNothing(string name, string body, string field)
    {
        await using var app = await TestApp.StartAsync();
        var jobId = await app.CreateAsync("test:approval");

        using var response = await SignalAsync(app, $"/jobs/{jobId}/signals/{name}", body);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
        var steps = await app.Services.GetRequiredService<Conveyor.Storage.IJobStore>().GetStepsAsync(TenantId.Default, jobId, CancellationToken.None);
        Assert.Empty(steps!);
    }

    [Fact]
    public async Task Signal_ToAnotherTenantsJob_Returns404_AndStoresNothing()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var jobId = await app.CreateAsync("test:approval", key: TestApp.KeyA);

        using var response = await SignalAsync(app, $"/jobs/{jobId}/signals/approved", "true", TestApp.KeyB);
        using var ok = await SignalAsync(app, $"/jobs/{jobId}/signals/approved?tenant=tenant-a", "true", TestApp.AdminKey);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
    }
}
