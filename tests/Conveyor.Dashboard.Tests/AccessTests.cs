using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>The dashboard sees what its API key sees, and shows no action at all in read-only mode.</summary>
[Collection(DashboardCollection.Name)]
public sealed class AccessTests(DashboardFixture fixture)
{
    [Fact]
    public void TenantKey_SeesOnlyItsTenantsJobs_AndNoQueuesOrServers()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.TenantKey);
        Assert.Contains("Tenant view", browser.Find(By.Id("whoami")).Text, StringComparison.Ordinal);
        browser.Find(By.CssSelector("a.card[data-state=FAILED]"));
        browser.Find(By.CssSelector("a.card[data-state=WAITING]"));
        Assert.Empty(browser.FindAll(By.CssSelector("tr[data-queue]")));
        Assert.Empty(browser.FindAll(By.CssSelector("tr[data-server]")));

        browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + "#/jobs?limit=1000");
        var ids = browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id]")) is { Count: > 0 } rows ? rows.Select(r => r.GetAttribute("data-job-id")!).ToList() : null, "the tenant's jobs");
        Assert.Equal(fixture.Seed.GlobexJobs.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        Assert.Empty(browser.FindAll(By.Id("f-tenant")));
        browser.Screenshot("tenant-jobs");

        browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + "#/jobs/" + fixture.Seed.AcmeQueued[1]);
        Assert.Contains("No job " + fixture.Seed.AcmeQueued[1], browser.Find(By.CssSelector("[role=alert]")).Text, StringComparison.Ordinal);
    }

    [Fact]
    public void TenantKey_AsksNoOperatorEndpoint_AndLeavesNoErrorInTheConsole()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        // Every page a tenant reaches from the header, and one of its jobs: the page must know the key is a tenant's
        // without asking GET /queues (a 403, written to the console) or any other operator endpoint.
        browser.OpenDashboard(fixture.Server, DashboardServer.TenantKey);
        Assert.Contains("Tenant view", browser.Find(By.Id("whoami")).Text, StringComparison.Ordinal);
        browser.Find(By.CssSelector("a.card[data-state=FAILED]"));
        foreach (var (hash, shown) in new[]
        {
            ("#/jobs?status=FAILED", "tr[data-job-id]"),
            ("#/jobs/" + fixture.Seed.GlobexJobs[0], "[data-field=status]"),
            ("#/batches", "#batch-list > *"),
            ("#/workflows", "#batch-list > *"),
            ("#/schedules", "body[data-ready=schedules] main h1"),
        })
        {
            browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + hash);
            browser.Find(By.CssSelector(shown));
        }

        Assert.Empty(browser.FailedRequests());
        Assert.Empty(browser.ConsoleErrors());
    }

    [Fact]
    public void AWrongKey_IsSaidToBeRefused_OnTheHeaderAndThePages()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, "not-a-key-of-this-server");

        Assert.Contains("The server refused this API key", browser.Find(By.Id("whoami")).Text, StringComparison.Ordinal);
        browser.Until(d => d.FindElement(By.TagName("main")).Text.Contains("The server refused this API key", StringComparison.Ordinal), "the overview to say the key was refused");
        browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + "#/jobs");
        browser.Until(d => d.FindElement(By.TagName("body")).Text.Contains("The server refused this API key", StringComparison.Ordinal), "the jobs page to say the key was refused");
    }

    [Fact]
    public async Task OperatorKey_SeesAnotherTenantsJobs_AndRetriesOne()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/jobs?tenant=globex&limit=1000");
        var ids = browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id]")) is { Count: > 0 } rows ? rows.Select(r => r.GetAttribute("data-job-id")!).ToList() : null, "globex's jobs");
        Assert.Equal(fixture.Seed.GlobexJobs.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));

        browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + "#/jobs?tenant=globex&status=FAILED");
        var link = browser.Find(By.CssSelector("tr[data-job-id] a"));
        var jobId = link.Text;
        link.Click();
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "failed", "globex's failed job");
        Assert.Contains("globex", browser.Find(By.CssSelector("dl.facts")).Text, StringComparison.Ordinal);
        browser.Click(By.CssSelector("button[data-action=retry]"));
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "queued", "the job queued again");
        Assert.Equal(JobState.Pending, (await fixture.Server.Store.GetAsync("globex", jobId, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task ReadOnlyMode_HidesEveryAction_OnEveryPage()
    {
        await using var server = await DashboardServer.StartAsync(readOnly: true);
        var seed = await SeedData.SeedAsync(server.Store, pagingJobs: 10);
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(server, DashboardServer.OperatorKey);
        Assert.Contains("Read-only", browser.Find(By.Id("whoami")).Text, StringComparison.Ordinal);
        browser.Find(By.CssSelector("tr[data-queue=critical] [data-limit]"));
        AssertNoActions(browser);
        browser.AssertNoNullText();

        browser.Driver.Navigate().GoToUrl(server.DashboardUrl + "#/jobs?status=FAILED");
        browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id]")).Count > 0, "the failed list");
        Assert.Empty(browser.FindAll(By.CssSelector("input[type=checkbox]")));
        Assert.Empty(browser.FindAll(By.CssSelector(".bulk, [data-bulk]")));
        AssertNoActions(browser);
        browser.AssertNoNullText();

        browser.Driver.Navigate().GoToUrl(server.DashboardUrl + "#/jobs/" + seed.FailedCritical[0]);
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "failed", "the failed job");
        AssertNoActions(browser);
        browser.AssertNoNullText();
        browser.Screenshot("read-only-job");
    }

    private static void AssertNoActions(Browser browser)
    {
        var actions = browser.FindAll(By.CssSelector("[data-action], [data-bulk]"));
        Assert.True(actions.Count == 0, "actions shown in read-only mode: " + string.Join(", ", actions.Select(a => a.Text)));
    }
}
