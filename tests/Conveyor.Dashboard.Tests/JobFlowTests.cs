using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>What an operator does most: from the overview to a failed job, and back into its queue.</summary>
[Collection(DashboardCollection.Name)]
public sealed class JobFlowTests(DashboardFixture fixture)
{
    [Fact]
    public async Task Overview_FailedList_Filter_Detail_Retry_ShowsTheJobQueuedAgain()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey);
        browser.Until(d => d.FindElement(By.CssSelector("a.card[data-state=FAILED] .value")).Text != "0", "the failed total");
        browser.Find(By.CssSelector("section svg, tr[data-queue=critical]"));
        browser.Screenshot("overview");

        browser.Click(By.CssSelector("a.card[data-state=FAILED]"));
        browser.Until(d => d.Url.Contains("status=FAILED", StringComparison.Ordinal) && d.FindElements(By.CssSelector("tr[data-job-id]")).Count > 0, "the failed list");
        Assert.All(browser.FindAll(By.CssSelector("tr[data-job-id]")), row => Assert.Equal("FAILED", row.GetAttribute("data-status")));
        browser.Screenshot("jobs-failed");

        // The operator sees every tenant's failures; the error text picks acme's gateway timeouts out of them.
        Assert.Contains(browser.FindAll(By.CssSelector("tr[data-job-id]")), row => row.Text.Contains("globex", StringComparison.Ordinal));
        browser.Find(By.Id("f-queue")).SendKeys("critical");
        browser.Find(By.Id("f-error")).SendKeys("gateway timed out");
        browser.Click(By.CssSelector("form.filters button[type=submit]"));
        browser.Until(d => d.Url.Contains("queue=critical", StringComparison.Ordinal) && d.Url.Contains("error=gateway", StringComparison.Ordinal), "the filters in the address");
        var first = browser.Until(d =>
        {
            var rows = d.FindElements(By.CssSelector("tr[data-job-id]"));
            return rows.Count > 0 && rows.All(r => r.Text.Contains("critical", StringComparison.Ordinal) && r.Text.Contains("Payment gateway timed out", StringComparison.Ordinal)) ? rows[0] : null;
        }, "only critical jobs that failed with a gateway timeout");
        var jobId = first.GetAttribute("data-job-id")!;
        Assert.Contains(jobId, fixture.Seed.FailedCritical);

        first.FindElement(By.CssSelector("a")).Click();
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "failed", "the job's detail");
        var error = browser.Find(By.CssSelector(".error-item"));
        Assert.Contains("Payment gateway timed out after 30 s.", error.Text, StringComparison.Ordinal);
        Assert.Contains("System.TimeoutException", error.Text, StringComparison.Ordinal);
        Assert.Contains("seeded for the dashboard tests", browser.Find(By.CssSelector("pre[data-field=payload]")).Text, StringComparison.Ordinal);
        browser.Screenshot("job-detail");

        browser.Click(By.CssSelector("button[data-action=retry]"));
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "queued", "the job's new state");
        Assert.Contains("queued again", browser.Find(By.Id("notice")).Text, StringComparison.Ordinal);
        var stored = await fixture.Server.Store.GetAsync("acme", jobId, CancellationToken.None);
        Assert.Equal(JobState.Pending, stored!.State);
    }

    [Fact]
    public void SearchById_OpensTheJob_AndAnUnknownIdSaysSo()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        var jobId = fixture.Seed.AcmeQueued[0];
        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/jobs");
        browser.Find(By.Id("job-search")).SendKeys(jobId + Keys.Enter);
        browser.Until(d => d.FindElement(By.CssSelector("[data-field=status]")).Text == "queued", "the job found by id");
        Assert.Contains(jobId, browser.Find(By.TagName("h1")).Text, StringComparison.Ordinal);

        browser.Driver.Navigate().GoToUrl(fixture.Server.DashboardUrl + "#/jobs/job_00000000000000000000000000000000");
        var missing = browser.Find(By.CssSelector("[role=alert]"));
        Assert.Contains("No job job_00000000000000000000000000000000", missing.Text, StringComparison.Ordinal);
    }
}
