using System.Net;

namespace Conveyor.AspNetCore.Tests;

public sealed class RateLimitTests
{
    private static readonly Dictionary<string, string?> Tight = new()
    {
        ["RateLimit:PermitsPerSecond"] = "1",
        ["RateLimit:Burst"] = "2",
    };

    [Fact]
    public async Task OverTheTenantsLimit_Returns429WithRetryAfter_AndWritesNothing()
    {
        await using var app = await TestApp.StartAsync(Tight, withKeys: true);

        // Back-to-back creates exhaust the burst of 2 unless the machine is so slow that a token (one a second) comes
        // back in between; so keep creating until the refusal instead of counting on a fixed number of requests.
        var accepted = 0;
        HttpResponseMessage response;
        while ((response = await app.PostJobAsync("""{"type": "test:noop"}""", TestApp.KeyA)).StatusCode == HttpStatusCode.Accepted)
        {
            response.Dispose();
            Assert.True(++accepted < 20, "no request was refused");
        }

        using (response)
        {
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.TooManyRequests);
            Assert.True(response.Headers.CacheControl?.NoStore == true, $"Cache-Control: {response.Headers.CacheControl}");
            Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
            var retryAfter = response.Headers.RetryAfter!.Delta!.Value;
            Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        }

        Assert.InRange(accepted, 2, 19);
        Assert.Equal(accepted, (await app.StoredJobsAsync("tenant-a")).Count);
    }

    [Fact]
    public async Task OneTenantOverItsLimit_DoesNotSlowAnother()
    {
        await using var app = await TestApp.StartAsync(Tight, withKeys: true);
        await app.CreateAsync(key: TestApp.KeyA);
        await app.CreateAsync(key: TestApp.KeyA);
        (await app.PostJobAsync("""{"type": "test:noop"}""", TestApp.KeyA)).Dispose();

        var jobId = await app.CreateAsync(key: TestApp.KeyB);

        Assert.NotNull(jobId);
    }

    [Fact]
    public async Task Disabled_AllowsAnyRate()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimit:Enabled"] = "false",
            ["RateLimit:PermitsPerSecond"] = "1",
            ["RateLimit:Burst"] = "1",
        });

        for (var i = 0; i < 5; i++)
        {
            await app.CreateAsync();
        }

        Assert.Equal(5, (await app.StoredJobsAsync()).Count);
    }
}
