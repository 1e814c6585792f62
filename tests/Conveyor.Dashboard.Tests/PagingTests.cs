using OpenQA.Selenium;

namespace Conveyor.Dashboard.Tests;

/// <summary>Cursor paging: every job of a 10,000-job queue once, and back.</summary>
[Collection(DashboardCollection.Name)]
public sealed class PagingTests(DashboardFixture fixture)
{
    [Fact]
    public void PagingThroughTenThousandJobs_ShowsEachJobOnce_AndEndsOnTheLastPage()
    {
        using var browser = Browser.Start();
        if (browser is null)
        {
            return;
        }

        browser.OpenDashboard(fixture.Server, DashboardServer.OperatorKey, "#/jobs?queue=bulk&limit=1000");
        var seen = new List<string>();
        for (var page = 1; ; page++)
        {
            var ids = browser.Until<List<string>>(d =>
                d.FindElements(By.CssSelector($"table[data-page='{page}']")).Count == 1
                    ? ((IReadOnlyCollection<object>)browser.Script("return [...document.querySelectorAll('tr[data-job-id]')].map(r => r.dataset.jobId);")!).Cast<string>().ToList()
                    : null,
                $"page {page}");
            seen.AddRange(ids);
            var next = browser.Find(By.CssSelector("button[data-page=next]"));
            if (!next.Enabled)
            {
                break;
            }

            Assert.True(page < 20, "the pager never reached a last page");
            next.Click();
        }

        Assert.Equal(DashboardFixture.PagingJobs, seen.Count);
        Assert.Equal(fixture.Seed.PagingJobs.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
        Assert.Contains("(last page)", browser.Find(By.Id("page-info")).Text, StringComparison.Ordinal);
        browser.Screenshot("jobs-last-page");

        browser.Click(By.CssSelector("button[data-page=previous]"));
        browser.Until(d => d.FindElements(By.CssSelector("table[data-page='9']")).Count == 1, "the previous page");
        Assert.Contains("jobs 8,001–9,000", browser.Find(By.Id("page-info")).Text, StringComparison.Ordinal);
    }
}
