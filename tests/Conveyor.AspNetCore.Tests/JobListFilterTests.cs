using System.Net;
using System.Text.Json;

namespace Conveyor.AspNetCore.Tests;

/// <summary>GET /jobs's dashboard filters: error text, created-at range and tenant (admin keys), and their refusals.</summary>
public sealed class JobListFilterTests
{
    private static async Task<List<string>> ListAsync(TestApp app, string query, string? key = null)
    {
        using var response = await app.SendAsync(HttpMethod.Get, "/jobs?" + query, key);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return [.. JsonDocument.Parse(text).RootElement.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("job_id").GetString()!)];
    }

    [Fact]
    public async Task Error_MatchesTheLastErrorIgnoringCase()
    {
        await using var app = await TestApp.StartAsync(withWorkers: true);
        var failed = await app.CreateAsync("test:fail");
        var fine = await app.CreateAsync();
        await app.WaitForStatusAsync(failed, null, "FAILED");
        await app.WaitForStatusAsync(fine, null, "SUCCESS");

        Assert.Equal([failed], await ListAsync(app, "error=Always%20FAILS"));
        Assert.Empty(await ListAsync(app, "error=nothing-like-it"));
    }

    [Fact]
    public async Task CreatedRange_SelectsByCreatedAt()
    {
        await using var app = await TestApp.StartAsync();
        var job = await app.CreateAsync(extra: """, "queue": "nobody" """);
        var created = (await app.GetJobAsync(job)).GetProperty("created_at").GetString()!;

        Assert.Equal([job], await ListAsync(app, $"created_after={Uri.EscapeDataString(created)}"));
        Assert.Empty(await ListAsync(app, $"created_before={Uri.EscapeDataString(created)}"));
        Assert.Equal([job], await ListAsync(app, "created_after=2000-01-01T00:00:00%2B02:00&created_before=2999-01-01T00:00:00Z"));
    }

    [Fact]
    public async Task Tenant_AdminKeyListsAnyTenantOrAll_TenantKeyOnlyItsOwn()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var a = await app.CreateAsync(key: TestApp.KeyA, extra: """, "queue": "nobody" """);
        var b = await app.CreateAsync(key: TestApp.KeyB, extra: """, "queue": "nobody" """);

        Assert.Equal([b, a], await ListAsync(app, "tenant=*", TestApp.AdminKey));
        Assert.Equal([b], await ListAsync(app, "tenant=tenant-b", TestApp.AdminKey));
        Assert.Equal([a], await ListAsync(app, "tenant=tenant-a", TestApp.KeyA));
        Assert.Empty(await ListAsync(app, "", TestApp.AdminKey));
        var listed = await app.SendAsync(HttpMethod.Get, "/jobs?tenant=*", TestApp.AdminKey);
        var first = JsonDocument.Parse(await listed.Content.ReadAsStringAsync()).RootElement.GetProperty("jobs")[0];
        Assert.Equal("tenant-b", first.GetProperty("tenant").GetString());

        using var other = await app.SendAsync(HttpMethod.Get, "/jobs?tenant=tenant-b", TestApp.KeyA);
        using var every = await app.SendAsync(HttpMethod.Get, "/jobs?tenant=*", TestApp.KeyA);
        using var detail = await app.SendAsync(HttpMethod.Get, $"/jobs/{b}?tenant=tenant-b", TestApp.AdminKey);
        using var detailOther = await app.SendAsync(HttpMethod.Get, $"/jobs/{b}?tenant=tenant-b", TestApp.KeyA);
        await ProblemAssert.IsProblemAsync(other, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(every, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, detail.StatusCode);
        await ProblemAssert.IsProblemAsync(detailOther, HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("error=", "error")]
    [InlineData("created_after=2026-13-01T00:00:00Z", "created_after")]
    [InlineData("created_before=1700000000", "created_before")]
    [InlineData("created_after=2026-02-01T00:00:00Z&created_before=2026-01-01T00:00:00Z", "created_before")]
    [InlineData("tenant=has%20space", "tenant")]
    [InlineData("tenant=a&tenant=b", "tenant")]
    [InlineData("created_after=2026-02-30T00:00:00Z", "created_after")]
    [InlineData("created_after=2026-01-01T25:00:00Z", "created_after")]
    [InlineData("created_after=2026-01-01T00:00:00%2B25:00", "created_after")]
    [InlineData("created_after=2026-01-01T00:00:00Z%0A", "created_after")]
    [InlineData("error=%00", "error")]
    [InlineData("error=time%0Aout", "error")]
    [InlineData("status=scheduled", "status")]
    [InlineData("status=Failed", "status")]
    public async Task BadValue_Is400NamingTheParameter(string query, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, "/jobs?" + query);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.DoesNotContain("is no instant between", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("created_after=0001-01-01T00:00:00%2B14:00", "created_after")]
    [InlineData("created_before=9999-12-31T23:59:59-14:00", "created_before")]
    public async Task AnRfc3339TimeBeyondTheYearsStored_Is400SayingSo(string query, string field)
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, "/jobs?" + query);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Contains("is no instant between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ErrorTextLongerThanTheLimit_Is400()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.SendAsync(HttpMethod.Get, "/jobs?error=" + new string('x', 201));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "error");
    }

    [Fact]
    public async Task ErrorTextOfTheLimitInCharactersOutsideTheBmp_IsTaken_AsTheDocumentCountsThem()
    {
        // 200 emoji are 200 characters for JSON Schema's maxLength, 400 UTF-16 code units for string.Length.
        await using var app = await TestApp.StartAsync();

        using var taken = await app.SendAsync(HttpMethod.Get, "/jobs?error=" + Uri.EscapeDataString(string.Concat(Enumerable.Repeat("😀", 200))));
        using var refused = await app.SendAsync(HttpMethod.Get, "/jobs?error=" + Uri.EscapeDataString(string.Concat(Enumerable.Repeat("😀", 201))));

        Assert.Equal(HttpStatusCode.OK, taken.StatusCode);
        var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest, "error");
        Assert.Contains("it is 201", problem.GetRawText(), StringComparison.Ordinal);
    }
}
