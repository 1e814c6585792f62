using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// A query parameter an endpoint does not read is refused (a 400 naming it) before the endpoint acts, on every operation
/// of the Jobs API: an admin's <c>?tenant=</c> on an endpoint that acts only in the key's own tenant must not act there.
/// What an admin creates or acts on in another tenant is answered with a <c>Location</c> that keeps the tenant.
/// </summary>
public sealed partial class QueryParameterTests
{
    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex PathParameter();

    /// <summary>Every operation of the Jobs API (not health, metrics or the sample endpoints) with a concrete path.</summary>
    private static IEnumerable<(string Method, string Template, string Path, JsonObject Operation)> ApiOperations(OpenApiContract contract) =>
        contract.Operations
            .Select(o => (o.Method, Template: o.Path, Operation: contract.Operation(o.Method, o.Path)))
            .Where(o => o.Operation["tags"]?.AsArray().Any(t => t?.GetValue<string>() == "Conveyor Jobs API") == true)
            .Select(o => (o.Method, o.Template, PathParameter().Replace(o.Template, "x1"), o.Operation));

    private static bool Declares(JsonObject operation, string parameter) =>
        operation["parameters"]?.AsArray().Any(p => p?["in"]?.GetValue<string>() == "query" && p["name"]?.GetValue<string>() == parameter) == true;

    private static async Task<HttpResponseMessage> SendAsync(TestApp app, string method, string path, string key)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        if (method is "POST" or "PUT")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        return await app.Client.SendAsync(request);
    }

    [Theory]
    [InlineData("/jobs?error=%FF", "error")]
    [InlineData("/jobs?type=note%3Aarchive&error=%C3%28", "error")]
    [InlineData("/jobs?%FF=1", "query")]
    public async Task AQueryParameterThatIsNotUtf8_IsRefusedNamingIt_AsABodyWouldBe(string path, string named)
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var refused = await SendAsync(app, "GET", path, TestApp.AdminKey);

        var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest, named);
        Assert.Contains("UTF-8", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AQueryParameterOfPercentEscapedUtf8_IsRead()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        using var read = await SendAsync(app, "GET", "/jobs?error=caf%C3%A9+cr%C3%A8me", TestApp.AdminKey);

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task EveryOperation_RefusesAQueryParameterItDoesNotRead_NamingIt_AsTheDocumentSays()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var operations = ApiOperations(contract).ToList();
        Assert.Contains(operations, o => o.Template == "/schedules/{name}" && o.Method == "DELETE");

        foreach (var (method, template, path, operation) in operations)
        {
            using var unknown = await SendAsync(app, method, path + "?colour=red", TestApp.AdminKey);
            await contract.CheckAsync(method, template, unknown, HttpStatusCode.BadRequest);
            await ProblemAssert.IsProblemAsync(unknown, HttpStatusCode.BadRequest, "colour");
            if (!Declares(operation, "tenant"))
            {
                using var tenant = await SendAsync(app, method, path + "?tenant=tenant-a", TestApp.AdminKey);
                var problem = await ProblemAssert.IsProblemAsync(tenant, HttpStatusCode.BadRequest, "tenant");
                Assert.Contains("own tenant", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task EveryOperation_TakesEveryQueryParameterTheDocumentDeclaresForIt()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);
        var declared = 0;

        foreach (var (method, _, path, operation) in ApiOperations(contract))
        {
            foreach (var parameter in operation["parameters"]?.AsArray().Where(p => p?["in"]?.GetValue<string>() == "query") ?? [])
            {
                var name = parameter!["name"]!.GetValue<string>();
                declared++;
                using var response = await SendAsync(app, method, $"{path}?{name}=1", TestApp.AdminKey);
                var text = await response.Content.ReadAsStringAsync();

                // The endpoint may refuse the value (1 is no cursor); the filter must not refuse the name.
                Assert.DoesNotContain("is not a query parameter", text, StringComparison.Ordinal);
            }
        }

        Assert.True(declared > 20, $"only {declared} query parameters declared");
    }

    [Fact]
    public async Task WithoutAKey_AnUnknownQueryParameter_Is401_NotA400ThatDescribesTheEndpoint()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);

        await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Get, "/queues?colour=red"), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Delete, "/schedules/s?tenant=tenant-a"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AnAdminsTenantOnAnEndpointOfItsOwnTenant_ChangesNothing_InEitherTenant()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        const string schedule = """{"name": "shared", "cron": "@daily", "job_type": "test:noop", "paused": true}""";
        Assert.Equal(HttpStatusCode.Created, (await app.PostAsync("/schedules", schedule, TestApp.KeyA)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await app.PostAsync("/schedules", schedule, TestApp.AdminKey)).StatusCode);

        await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Put, "/schedules/shared?tenant=tenant-a", TestApp.AdminKey), HttpStatusCode.BadRequest, "tenant");
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/jobs?tenant=tenant-a", """{"type": "test:noop", "queue": "nobody"}""", TestApp.AdminKey), HttpStatusCode.BadRequest, "tenant");

        Assert.Empty(await app.StoredJobsAsync("tenant-a"));
        Assert.Empty(await app.StoredJobsAsync("ops"));
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync(HttpMethod.Get, "/schedules/shared", TestApp.KeyA)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync(HttpMethod.Get, "/schedules/shared", TestApp.AdminKey)).StatusCode);
    }

    [Fact]
    public async Task WhatAnAdminCreatesOrActsOnInAnotherTenant_HasALocationThatFindsItThere()
    {
        await using var app = await TestApp.StartAsync(withKeys: true);
        var contract = await OpenApiContract.LoadAsync(app.Client);

        using var batch = await app.PostAsync("/batches?tenant=tenant-a", """{"jobs": [{"type": "test:noop", "queue": "nobody"}]}""", TestApp.AdminKey);
        await contract.CheckAsync("POST", "/batches", batch, HttpStatusCode.Created);
        using var added = await app.PostAsync(batch.Headers.Location!.OriginalString.Replace("?", "/jobs?", StringComparison.Ordinal), """{"jobs": [{"type": "test:noop", "queue": "nobody"}]}""", TestApp.AdminKey);
        using var workflow = await app.PostAsync("/workflows?tenant=tenant-a", """{"steps": [{"name": "only", "job": {"type": "test:noop", "queue": "nobody"}}]}""", TestApp.AdminKey);
        var job = (await app.StoredJobsAsync("tenant-a"))[0].Id;
        // A queued job is cancelled at once (200, the job in the body, no Location); retrying it is accepted.
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync(HttpMethod.Post, $"/jobs/{job}/cancel?tenant=tenant-a", TestApp.AdminKey)).StatusCode);
        using var retried = await app.SendAsync(HttpMethod.Post, $"/jobs/{job}/retry?tenant=tenant-a", TestApp.AdminKey);

        foreach (var response in new[] { batch, added, workflow, retried })
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            var location = response.Headers.Location!.OriginalString;
            Assert.EndsWith("?tenant=tenant-a", location, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await app.SendAsync(HttpMethod.Get, location, TestApp.AdminKey)).StatusCode);
        }

        using var own = await app.PostAsync("/batches", """{"jobs": [{"type": "test:noop", "queue": "nobody"}]}""", TestApp.AdminKey);
        Assert.DoesNotContain("?", own.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnApplicationsEndpointOnTheApiGroup_ReadsItsOwnQueryParameters()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Services.AddConveyor().UseInMemoryStore().AddApi();
        await using var app = builder.Build();
        app.MapConveyorApi().MapGet("/reports/monthly", (string month) => Results.Ok(month));
        await app.StartAsync();
        using var client = app.GetTestClient();

        using var own = await client.GetAsync("/reports/monthly?month=2026-11");
        using var conveyors = await client.GetAsync("/queues?month=2026-11");

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal("\"2026-11\"", await own.Content.ReadAsStringAsync());
        await ProblemAssert.IsProblemAsync(conveyors, HttpStatusCode.BadRequest, "month");
    }
}
