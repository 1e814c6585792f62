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
        await app.CreateAsync(key: TestApp.KeyA);
        await app.CreateAsync(key: TestApp.KeyA);

        using var response = await app.PostJobAsync("""{"type": "test:noop"}""", TestApp.KeyA);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.TooManyRequests);
        var retryAfter = response.Headers.RetryAfter!.Delta!.Value;
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        Assert.Equal(2, (await app.StoredJobsAsync("tenant-a")).Count);
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
