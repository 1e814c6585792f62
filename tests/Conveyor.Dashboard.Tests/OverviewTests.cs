using System.Globalization;
using System.Text.Json;
using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>The overview's totals and queues, and pages that load without an error in the browser's console.</summary>
[Collection(DashboardCollection.Name)]
public sealed class OverviewTests(DashboardFixture fixture)
{
    [Fact]
    public async Task WaitingJobs_AreCountedInTheTotals_AndInTheirQueuesRow()
    {
        // No workers: the first step stays queued, the two after it wait.
        await fixture.Server.SendAsync(HttpMethod.Post, "/workflows", """
            {"name": "ledger-close", "steps": [
              {"name": "collect", "job": {"type": "report:generate", "queue": "ledger"}},
              {"name": "post", "job": {"type": "report:generate", "queue": "ledger"}, "after": ["collect"]},
              {"name": "notify", "job": {"type": "report:generate", "queue": "ledger"}, "after": ["post"]}
            ]}
            """);
        var queues = JsonDocument.Parse(await fixture.Server.SendAsync(HttpMethod.Get, "/queues")).RootElement.GetProperty("queues");
        var waiting = queues.EnumerateArray().Sum(q => q.GetProperty("waiting").GetInt64());
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey);
        browser.Until(d => d.FindElement(By.CssSelector("a.card[data-state=WAITING] .value")).Text == waiting.ToString("N0", CultureInfo.InvariantCulture), "the waiting total");
        Assert.Equal("#/jobs?status=WAITING", browser.Find(By.CssSelector("a.card[data-state=WAITING]")).GetDomAttribute("href"));
        Assert.Contains(browser.FindAll(By.CssSelector("section[aria-labelledby=queues-title] thead th")), th => th.Text == "waiting");
        var cell = browser.Find(By.CssSelector("tr[data-queue=ledger] a[href='#/jobs?status=WAITING&queue=ledger']"));
        Assert.Equal("2", cell.Text);

        cell.Click();
        var rows = browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id]")) is { Count: 2 } r ? r : null, "the ledger queue's two waiting jobs");
        Assert.All(rows, r => Assert.Equal("WAITING", r.GetAttribute("data-status")));
    }

    [Fact]
    public void Pages_HaveTheirOwnIcon_AndLeaveNoErrorInTheConsole_ForAnOperator()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey);
        browser.Find(By.CssSelector("tr[data-queue=critical]"));

        // The icon is one of the dashboard's files (the Content-Security-Policy's img-src 'self'), not a 404 for /favicon.ico.
        var icon = browser.Driver.FindElement(By.CssSelector("link[rel=icon]")).GetDomProperty("href")!;
        Assert.Equal(fixture.Server.DashboardUrl + "/favicon.svg", icon);
        Assert.Equal("200 image/svg+xml", browser.Script("return fetch(arguments[0]).then((r) => r.status + ' ' + r.headers.get('content-type'));", icon));

        foreach (var (hash, shown) in new[]
        {
            ("#/jobs?status=FAILED", "tr[data-job-id]"),
            ("#/jobs/" + fixture.Seed.FailedCritical[^1], "[data-field=status]"),
            ("#/batches", "#batch-list > *"),
            ("#/schedules", "body[data-ready=schedules] main h1"),
            ("#/overview", "tr[data-queue=critical]"),
        })
        {
            browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + hash);
            browser.Find(By.CssSelector(shown));
        }

        Assert.Empty(browser.FailedRequests());
        Assert.Empty(browser.ConsoleErrors());
    }
}
