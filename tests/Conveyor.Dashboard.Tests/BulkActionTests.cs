using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>Bulk retry from the jobs list: of the selected rows, and of everything a filter matches (in batches, with progress).</summary>
[Collection(DashboardCollection.Name)]
public sealed class BulkActionTests(DashboardFixture fixture)
{
    [Fact]
    public async Task RetrySelected_QueuesExactlyTheSelectedJobs()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/jobs?status=FAILED&queue=critical&tenant=acme&limit=25");
        var rows = browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id]")) is { Count: 25 } r ? r : null, "a page of failed critical jobs");
        var chosen = rows.Skip(5).Take(3).Select(r => r.GetAttribute("data-job-id")!).ToList();
        foreach (var id in chosen)
        {
            browser.Click(By.CssSelector($"input[data-select='{id}']"));
        }

        browser.Until(d => d.FindElement(By.CssSelector(".bulk")).Text.Contains("Selected: 3", StringComparison.Ordinal), "the selection count");
        browser.Click(By.CssSelector("button[data-bulk=retry-selection]"));
        browser.Click(By.CssSelector("dialog[open] button[data-confirm]"));
        browser.Until(d => d.FindElement(By.Id("notice")).Text.Contains("Bulk retry done: 3 matched, 3 retried, 0 skipped", StringComparison.Ordinal), "the bulk summary");

        foreach (var id in chosen)
        {
            Assert.Equal(JobState.Pending, (await fixture.Server.Store.GetAsync("acme", id, CancellationToken.None))!.State);
        }

        browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id]")).All(r => !chosen.Contains(r.GetAttribute("data-job-id") ?? "")), "the retried jobs to leave the failed list");
    }

    [Fact]
    public async Task RetryAllMatchingAFilter_QueuesEveryMatchingJob_WithProgress()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/jobs?status=FAILED&queue=default&type=report:generate");
        browser.Until(d => d.FindElements(By.CssSelector("tr[data-job-id]")).Count > 0, "the failed reports");
        browser.Click(By.CssSelector("button[data-bulk=retry-filter]"));
        var dialog = browser.Find(By.CssSelector("dialog[open]"));
        Assert.Contains("Retry every job matching status FAILED, queue default, type report:generate", dialog.Text, StringComparison.Ordinal);
        browser.Screenshot("bulk-confirm");
        dialog.FindElement(By.CssSelector("button[data-confirm]")).Click();
        browser.Until(d => d.FindElement(By.Id("notice")).Text.Contains("Bulk retry done: 200 matched, 200 retried, 0 skipped", StringComparison.Ordinal), "the bulk summary");
        browser.Until(d => d.FindElement(By.Id("job-list")).Text.Contains("No jobs match.", StringComparison.Ordinal), "an empty failed list");
        browser.Screenshot("bulk-done");

        foreach (var id in fixture.Seed.FailedReports)
        {
            Assert.Equal(JobState.Pending, (await fixture.Server.Store.GetAsync("acme", id, CancellationToken.None))!.State);
        }
    }
}
