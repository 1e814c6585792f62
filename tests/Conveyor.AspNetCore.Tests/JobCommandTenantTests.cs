using System.Net;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// Cancel, retry and delete by id act in the key's tenant, or for an admin key in the tenant <c>?tenant=</c> names (the
/// one an every-tenant listing shows), like <c>GET /jobs/{id}</c>; a tenant key never reaches another tenant's job.
/// </summary>
public sealed class JobCommandTenantTests
{
    [Fact]
    public async Task AdminKey_CancelsRetriesAndDeletesAnotherTenantsJob_ByNamingItsTenant()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var job = await app.CreateAsync(key: TestApp.KeyB, extra: """, "queue": "nobody" """);

        using var withoutTenant = await app.SendAsync(HttpMethod.Post, $"/jobs/{job}/cancel", TestApp.AdminKey);
        await ProblemAssert.IsProblemAsync(withoutTenant, HttpStatusCode.NotFound);

        using var cancelled = await app.SendAsync(HttpMethod.Post, $"/jobs/{job}/cancel?tenant=tenant-b", TestApp.AdminKey);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("CANCELLED", (await app.GetJobAsync(job, TestApp.KeyB)).GetProperty("status").GetString());

        using var retried = await app.SendAsync(HttpMethod.Post, $"/jobs/{job}/retry?tenant=tenant-b", TestApp.AdminKey);
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
        Assert.Equal("QUEUED", (await app.GetJobAsync(job, TestApp.KeyB)).GetProperty("status").GetString());

        using var deleted = await app.SendAsync(HttpMethod.Delete, $"/jobs/{job}?tenant=tenant-b", TestApp.AdminKey);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await app.SendAsync(HttpMethod.Get, $"/jobs/{job}", TestApp.KeyB);
        await ProblemAssert.IsProblemAsync(gone, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("POST", "/cancel")]
    [InlineData("POST", "/retry")]
    [InlineData("DELETE", "")]
    public async Task TenantKey_NamingAnotherTenant_Is403_AndTheJobIsUntouched(string method, string suffix)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var job = await app.CreateAsync(key: TestApp.KeyB, extra: """, "queue": "nobody" """);

        using var response = await app.SendAsync(new HttpMethod(method), $"/jobs/{job}{suffix}?tenant=tenant-b", TestApp.KeyA);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("QUEUED", (await app.GetJobAsync(job, TestApp.KeyB)).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("tenant=*", "tenant")]
    [InlineData("tenant=has%20space", "tenant")]
    [InlineData("tenant=a&tenant=b", "tenant")]
    [InlineData("force=true", "force")]
    public async Task BadQuery_Is400NamingTheParameter(string query, string field)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var job = await app.CreateAsync(key: TestApp.KeyA, extra: """, "queue": "nobody" """);

        using var response = await app.SendAsync(HttpMethod.Post, $"/jobs/{job}/cancel?{query}", TestApp.AdminKey);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal("QUEUED", (await app.GetJobAsync(job, TestApp.KeyA)).GetProperty("status").GetString());
    }
}
