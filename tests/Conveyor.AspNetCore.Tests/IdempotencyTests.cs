using System.Net;

namespace Conveyor.AspNetCore.Tests;

public sealed class IdempotencyTests
{
    private const string Body = """{"type": "test:noop", "payload": {"order": 17}}""";

    [Fact]
    public async Task Post_RepeatWithSameKeyAndBody_ReturnsTheFirstJob()
    {
        await using var app = await TestApp.StartAsync();

        using var first = await app.PostJobAsync(Body, idempotencyKey: "order-17");
        using var second = await app.PostJobAsync("""{ "payload": { "order": 17 }, "type": "test:noop" }""", idempotencyKey: "order-17");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var firstId = (await ProblemAssert.ReadJsonAsync(first)).GetProperty("job_id").GetString();
        Assert.Equal(firstId, (await ProblemAssert.ReadJsonAsync(second)).GetProperty("job_id").GetString());
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Single(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_SameKeyDifferentBody_Returns409_AndWritesNothing()
    {
        await using var app = await TestApp.StartAsync();
        using var first = await app.PostJobAsync(Body, idempotencyKey: "order-17");

        using var second = await app.PostJobAsync("""{"type": "test:noop", "payload": {"order": 18}}""", idempotencyKey: "order-17");
        using var third = await app.PostJobAsync("""{"type": "test:noop", "payload": {"order": 17}, "queue": "low"}""", idempotencyKey: "order-17");

        await ProblemAssert.IsProblemAsync(second, HttpStatusCode.Conflict);
        await ProblemAssert.IsProblemAsync(third, HttpStatusCode.Conflict);
        Assert.Single(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_RepeatWithThePayloadsMembersInAnotherOrder_ReturnsTheFirstJob_ButAnotherValueIs409()
    {
        await using var app = await TestApp.StartAsync();
        using var first = await app.PostJobAsync("""{"type": "test:noop", "payload": {"order": 17, "lines": [{"sku": "a", "n": 1}], "rush": false}}""", idempotencyKey: "order-17");

        // A client that rebuilds its payload from a map on a retry: the members of each object in another order, a number
        // written otherwise.
        using var reordered = await app.PostJobAsync("""{"type": "test:noop", "payload": {"rush": false, "lines": [{"n": 1.0, "sku": "a"}], "order": 17}}""", idempotencyKey: "order-17");
        using var otherValue = await app.PostJobAsync("""{"type": "test:noop", "payload": {"rush": false, "lines": [{"n": 2, "sku": "a"}], "order": 17}}""", idempotencyKey: "order-17");
        using var otherOrderOfItems = await app.PostJobAsync("""{"type": "test:noop", "payload": {"order": 17, "lines": [{"sku": "a", "n": 1}, {"sku": "b", "n": 1}], "rush": false}}""", idempotencyKey: "order-17");

        Assert.Equal(HttpStatusCode.Accepted, reordered.StatusCode);
        Assert.Equal((await ProblemAssert.ReadJsonAsync(first)).GetProperty("job_id").GetString(), (await ProblemAssert.ReadJsonAsync(reordered)).GetProperty("job_id").GetString());
        Assert.Equal("true", reordered.Headers.GetValues("Idempotent-Replayed").Single());
        await ProblemAssert.IsProblemAsync(otherValue, HttpStatusCode.Conflict);
        await ProblemAssert.IsProblemAsync(otherOrderOfItems, HttpStatusCode.Conflict);
        Assert.Single(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_SameKeyFromTwoTenants_CreatesTwoJobs()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var a = await app.PostJobAsync(Body, TestApp.KeyA, "shared-key");
        using var b = await app.PostJobAsync("""{"type": "test:noop", "payload": {"other": true}}""", TestApp.KeyB, "shared-key");

        Assert.Equal(HttpStatusCode.Accepted, a.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, b.StatusCode);
        Assert.Single(await app.StoredJobsAsync("tenant-a"));
        Assert.Single(await app.StoredJobsAsync("tenant-b"));
    }

    [Fact]
    public async Task Post_ConcurrentRepeats_CreateOneJob()
    {
        await using var app = await TestApp.StartAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => app.PostJobAsync(Body, idempotencyKey: "burst")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Single(await app.StoredJobsAsync());
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("tab\there")]
    public async Task Post_InvalidKey_Returns400NamingTheHeader(string key)
    {
        await using var app = await TestApp.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = TestApp.Json(Body) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);

        using var response = await app.Client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "Idempotency-Key");
        Assert.Empty(await app.StoredJobsAsync());
    }

    [Fact]
    public async Task Post_KeyLongerThanAllowed_Returns400()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.PostJobAsync(Body, idempotencyKey: new string('k', 256));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "Idempotency-Key");
    }
}
